"""Bodies of the workspace endpoints."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.kit.names import MAX_RAW_NAME_LENGTH, name_rule
from app.kit.request_body import RequestBody
from app.kit.times import Timestamp
from app.workspaces.models import WorkspaceMember
from app.workspaces.service import WorkspaceView

MAX_WORKSPACE_NAME_LENGTH = 100
WorkspaceName = Annotated[
    str,
    Field(
        max_length=MAX_RAW_NAME_LENGTH,
        description=f"1 to {MAX_WORKSPACE_NAME_LENGTH} characters once whitespace is collapsed; "
        "no control or invisible characters.",
        examples=["Sales"],
    ),
    name_rule(MAX_WORKSPACE_NAME_LENGTH),
]
WorkspaceRoleName = Literal["admin", "editor", "viewer"]


class WorkspaceCreate(RequestBody):
    name: WorkspaceName


class WorkspaceRename(RequestBody):
    name: WorkspaceName


class WorkspaceMemberPut(RequestBody):
    role: WorkspaceRoleName


class WorkspaceRead(BaseModel):
    id: str
    name: str
    is_default: bool
    archived: bool
    created_at: Timestamp
    members: int = Field(description="Members of the workspace (owners and admins see all).")
    documents: int = Field(description="Tenant documents filed under the workspace.")
    your_role: WorkspaceRoleName | None = Field(
        description=(
            "Your role as a member of the workspace, as its member list shows it; null when "
            "you are not one (organization owners and admins manage every workspace anyway)."
        )
    )

    @classmethod
    def of(cls, view: WorkspaceView) -> "WorkspaceRead":
        workspace = view.workspace
        return cls(
            id=str(workspace.id),
            name=workspace.name,
            is_default=workspace.is_default,
            archived=workspace.archived,
            created_at=workspace.created_at,
            members=view.members,
            documents=view.documents,
            your_role=view.your_role.value if view.your_role else None,
        )


class WorkspaceMemberRead(BaseModel):
    account_id: str
    role: WorkspaceRoleName
    added_at: Timestamp

    @classmethod
    def of(cls, member: WorkspaceMember) -> "WorkspaceMemberRead":
        return cls(
            account_id=str(member.account_id), role=member.role.value, added_at=member.created_at
        )
