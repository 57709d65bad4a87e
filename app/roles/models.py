"""Custom roles as stored (the master database's `roles`)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from bson import ObjectId

from app.access.permissions import Grant, Permission, grant_of
from app.access.roles import RoleName
from app.db.store import Document


def role_id(organization_id: ObjectId, slug: str) -> str:
    """The natural key `<organization>:<slug>`: unique per organization by construction, and
    what a token's check joins its membership's role to."""
    return f"{organization_id}:{slug}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CustomRole:
    organization_id: ObjectId
    slug: str
    name: str
    description: str
    permissions: frozenset[Permission]
    created_at: datetime
    modified_at: datetime
    created_by: ObjectId | None = None
    # Raised by each change: a change made on an older read is refused.
    version: int = 1
    # Set while a delete moves the role's holders to this role; the role is given to no one
    # meanwhile, and a delete repeated after a crash finishes the move.
    replacing_with: RoleName | None = None

    @property
    def id(self) -> str:
        return role_id(self.organization_id, self.slug)

    @property
    def grant(self) -> Grant:
        return Grant(self.slug, self.permissions, builtin=False)

    @classmethod
    def from_document(cls, document: Document) -> "CustomRole":
        return cls(
            organization_id=document["organization_id"],
            slug=document["slug"],
            name=str(document.get("name") or document["slug"]),
            description=str(document.get("description") or ""),
            permissions=grant_of(document["slug"], document.get("permissions")).permissions,
            created_at=_aware(document["created_at"]),
            modified_at=_aware(document.get("modified_at") or document["created_at"]),
            created_by=document.get("created_by"),
            version=document.get("version", 1),
            replacing_with=document.get("replacing_with"),
        )

    def to_document(self) -> Document:
        document: Document = {
            "_id": self.id,
            "organization_id": self.organization_id,
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "permissions": sorted(p.value for p in self.permissions),
            "created_at": self.created_at,
            "modified_at": self.modified_at,
            "version": self.version,
        }
        if self.created_by is not None:
            document["created_by"] = self.created_by
        if self.replacing_with is not None:
            document["replacing_with"] = self.replacing_with
        return document
