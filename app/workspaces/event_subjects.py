"""How recovery reads a workspace or a workspace seat to judge a pending event about it."""

from typing import Any

from bson import ObjectId

from app.events.models import Subject
from app.events.outbox import SubjectReader
from app.kit.times import rfc3339
from app.workspaces.models import Workspace
from app.workspaces.repository import WorkspaceMemberRepository, WorkspaceRepository

WORKSPACE = "workspace"
WORKSPACE_NAMED = "workspace_named"
WORKSPACE_MEMBER = "workspace_member"


def workspace_subject(workspace: Workspace, **expect: Any) -> Subject:
    key = {"id": str(workspace.id), "organization_id": str(workspace.organization_id)}
    return Subject(WORKSPACE, key, expect)


def named_subject(organization_id: ObjectId, name: str) -> Subject:
    """A workspace about to be created, found by its (unique) name."""
    return Subject(WORKSPACE_NAMED, {"organization_id": str(organization_id), "name": name})


def seat_subject(workspace_id: ObjectId, account_id: ObjectId, **expect: Any) -> Subject:
    key = {"workspace_id": str(workspace_id), "account_id": str(account_id)}
    return Subject(WORKSPACE_MEMBER, key, expect)


def workspace_data(workspace: Workspace) -> dict[str, Any]:
    return {
        "id": str(workspace.id),
        "name": workspace.name,
        "is_default": workspace.is_default,
        "archived": workspace.archived,
        "created_at": rfc3339(workspace.created_at),
    }


def workspace_reader(workspaces: WorkspaceRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        workspace = await workspaces.get(ObjectId(key["organization_id"]), ObjectId(key["id"]))
        if workspace is None:
            return None
        return {"name": workspace.name, "archived": workspace.archived}

    return read


def named_reader(workspaces: WorkspaceRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        workspace = await workspaces.find_by_name(ObjectId(key["organization_id"]), key["name"])
        return {"id": str(workspace.id)} if workspace else None

    return read


def seat_reader(members: WorkspaceMemberRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        seat = await members.get(ObjectId(key["workspace_id"]), ObjectId(key["account_id"]))
        return {"role": seat.role.value} if seat else None

    return read
