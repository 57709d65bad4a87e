"""Platform keys as stored (`platform_keys`): never the secret, only its keyed hash."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bson import ObjectId

from app.access.keys import KeyKind
from app.db.store import Document


class PlatformScope(StrEnum):
    """`read` for every GET of the admin API; `write` for every change, and reads too."""

    READ = "read"
    WRITE = "write"

    def allows(self, needed: "PlatformScope") -> bool:
        return self is PlatformScope.WRITE or needed is PlatformScope.READ


@dataclass(frozen=True, slots=True)
class PlatformKey:
    id: ObjectId
    name: str
    scopes: tuple[PlatformScope, ...]
    digest: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def prefix(self) -> str:
        """What listings show and the audit log names: the kind and the id, no secret."""
        return f"{KeyKind.PLATFORM.value}_{self.id}"

    @property
    def scope(self) -> PlatformScope:
        """The widest scope the key holds."""
        return PlatformScope.WRITE if PlatformScope.WRITE in self.scopes else PlatformScope.READ

    def allows(self, needed: PlatformScope) -> bool:
        return self.scope.allows(needed)

    @classmethod
    def from_document(cls, document: Document) -> "PlatformKey":
        return cls(
            id=document["_id"],
            name=document["name"],
            scopes=tuple(PlatformScope(scope) for scope in document.get("scopes", [])),
            digest=document["digest"],
            created_at=_utc(document["created_at"]),
            created_by=document.get("created_by", ""),
            last_used_at=_maybe_utc(document.get("last_used_at")),
            revoked_at=_maybe_utc(document.get("revoked_at")),
        )

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "name": self.name,
            "scopes": [scope.value for scope in self.scopes],
            "digest": self.digest,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "last_used_at": self.last_used_at,
            "revoked_at": self.revoked_at,
        }


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else _utc(moment)
