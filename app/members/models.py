"""Memberships as stored in the master database (`memberships`)."""

from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from app.auth.models import Role
from app.db.store import Document


def membership_id(account_id: ObjectId, organization_id: ObjectId) -> str:
    """The natural key `<account>:<organization>`: unique by construction, readable by
    operators, and every account's memberships form one `_id` range."""
    return f"{account_id}:{organization_id}"


@dataclass(frozen=True, slots=True)
class Membership:
    id: str
    account_id: ObjectId
    organization_id: ObjectId
    role: Role
    created_at: datetime
    # Raised when the role changes, so tokens carrying the old role stop working.
    version: int = 0

    @classmethod
    def from_document(cls, document: Document) -> "Membership":
        return cls(
            id=document["_id"],
            account_id=document["account_id"],
            organization_id=document["organization_id"],
            role=Role(document["role"]),
            created_at=document["created_at"],
            version=document.get("version", 0),
        )

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "account_id": self.account_id,
            "organization_id": self.organization_id,
            "role": self.role.value,
            "created_at": self.created_at,
            "version": self.version,
        }
