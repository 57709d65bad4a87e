"""Workspaces and workspace memberships as stored in the master database."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bson import ObjectId

from app.db.store import Document

DEFAULT_WORKSPACE_NAME = "Default"


class WorkspaceRole(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Workspace:
    id: ObjectId
    organization_id: ObjectId
    name: str
    is_default: bool
    archived: bool
    created_at: datetime

    @classmethod
    def from_document(cls, document: Document) -> "Workspace":
        return cls(
            id=document["_id"],
            organization_id=document["organization_id"],
            name=document["name"],
            is_default=document.get("is_default", False),
            archived=document.get("archived", False),
            created_at=document["created_at"],
        )


@dataclass(frozen=True, slots=True)
class WorkspaceMember:
    workspace_id: ObjectId
    account_id: ObjectId
    role: WorkspaceRole
    created_at: datetime

    @classmethod
    def from_document(cls, document: Document) -> "WorkspaceMember":
        return cls(
            workspace_id=document["workspace_id"],
            account_id=document["account_id"],
            role=WorkspaceRole(document["role"]),
            created_at=document["created_at"],
        )


def workspace_member_id(workspace_id: ObjectId, account_id: ObjectId) -> str:
    return f"{workspace_id}:{account_id}"
