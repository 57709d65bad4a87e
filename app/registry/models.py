"""Organizations as recorded in the registry (the master database's `organizations`)."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId

from app.db.store import Document, TenantNamespace


class Status(StrEnum):
    """Business status, independent of the lifecycle: a suspended organization keeps its data
    and can be read, but refuses changes until an owner reactivates it."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


class LifecycleState(StrEnum):
    """Where an organization is in its life; anything but ACTIVE means an operation is under way.

    The registry records the state before each multi-step operation begins, so an interrupted
    operation is visible to operators and can be completed or rolled back.
    """

    PROVISIONING = "provisioning"
    ACTIVE = "active"
    RENAMING = "renaming"
    MOVING = "moving"
    DELETING = "deleting"


# The states in which clients see an organization; PROVISIONING and DELETING are hidden.
VISIBLE = frozenset({LifecycleState.ACTIVE, LifecycleState.RENAMING, LifecycleState.MOVING})


@dataclass(frozen=True, slots=True)
class PendingRename:
    name: str
    name_key: str
    identifier: str
    tenant_collection: str
    # Set once documents start being copied (rather than renamed) into the target, so that a
    # resumed rename knows a non-empty target is its own partial copy.
    copying: bool = False


@dataclass(frozen=True, slots=True)
class PendingMove:
    """An operator's move of the tenant collection, under the same name, to another database."""

    source: str
    target: str
    # Set once documents start being copied, so that a resumed move knows a non-empty target
    # collection is its own partial copy.
    copying: bool = False


@dataclass(frozen=True, slots=True)
class Organization:
    id: ObjectId
    name: str
    name_key: str
    identifier: str
    tenant_collection: str
    admin_id: ObjectId
    state: LifecycleState
    created_at: datetime
    modified_at: datetime
    pending_rename: PendingRename | None = None
    # Kept beside the memberships so that "never zero owners" is one conditional update.
    owner_count: int = 1
    status: Status = Status.ACTIVE
    # The tenant database holding the collection; "" for entries recorded before placement,
    # which live in the default tenant database.
    tenant_database: str = ""
    pending_move: PendingMove | None = None
    # What the owners say about the organization (`PATCH .../profile`), free fields.
    profile: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def visible(self) -> bool:
        """Whether clients see it: not while it is being provisioned or deleted."""
        return self.state in VISIBLE

    @property
    def namespace(self) -> TenantNamespace:
        return TenantNamespace(self.tenant_database, self.tenant_collection)

    def namespace_of(self, collection: str) -> TenantNamespace:
        """Another collection in the organization's database (renames stay inside it)."""
        return TenantNamespace(self.tenant_database, collection)

    @classmethod
    def from_document(cls, document: Document) -> "Organization":
        pending = document.get("pending_rename")
        move = document.get("pending_move")
        return cls(
            id=document["_id"],
            name=document["name"],
            name_key=document["name_key"],
            identifier=document["identifier"],
            tenant_collection=document["tenant_collection"],
            admin_id=document["admin_id"],
            state=LifecycleState(document["state"]),
            created_at=document["created_at"],
            modified_at=document["modified_at"],
            pending_rename=PendingRename(**pending) if pending else None,
            owner_count=document.get("owner_count", 1),
            status=Status(document.get("status", Status.ACTIVE)),
            tenant_database=document.get("tenant_database", ""),
            pending_move=PendingMove(**move) if move else None,
            profile=document.get("profile") or {},
        )

    def to_document(self) -> Document:
        document: Document = {
            "_id": self.id,
            "name": self.name,
            "name_key": self.name_key,
            "identifier": self.identifier,
            "tenant_collection": self.tenant_collection,
            "admin_id": self.admin_id,
            "state": self.state.value,
            "created_at": self.created_at,
            "modified_at": self.modified_at,
            "owner_count": self.owner_count,
            "status": self.status.value,
        }
        if self.tenant_database:
            document["tenant_database"] = self.tenant_database
        if self.pending_rename:
            document["pending_rename"] = asdict(self.pending_rename)
        if self.pending_move:
            document["pending_move"] = asdict(self.pending_move)
        return document
