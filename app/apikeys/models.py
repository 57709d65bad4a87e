"""Organization API keys as stored (the master database's `api_keys`)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from bson import ObjectId

from app.access.roles import RoleName
from app.db.store import Document


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and not moment.tzinfo else moment


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: ObjectId
    organization_id: ObjectId
    name: str
    role: RoleName
    prefix: str
    digest: str
    created_by: ObjectId
    created_by_email: str
    created_at: datetime
    # The workspace its documents go to; None: the organization's default workspace.
    workspace_id: ObjectId | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def live_at(self, moment: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or moment < self.expires_at)

    @classmethod
    def from_document(cls, document: Document) -> "ApiKey":
        return cls(
            id=document["_id"],
            organization_id=document["organization_id"],
            name=document["name"],
            role=document["role"],
            prefix=document["prefix"],
            digest=document["digest"],
            created_by=document["created_by"],
            created_by_email=document.get("created_by_email", ""),
            created_at=_aware(document["created_at"]) or document["created_at"],
            workspace_id=document.get("workspace_id"),
            expires_at=_aware(document.get("expires_at")),
            last_used_at=_aware(document.get("last_used_at")),
            revoked_at=_aware(document.get("revoked_at")),
        )

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "organization_id": self.organization_id,
            "name": self.name,
            "role": self.role,
            "prefix": self.prefix,
            "digest": self.digest,
            "created_by": self.created_by,
            "created_by_email": self.created_by_email,
            "created_at": self.created_at,
            "workspace_id": self.workspace_id,
            "expires_at": self.expires_at,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }
