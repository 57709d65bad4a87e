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
    # Soft delete: the collection on its way to the trash (TRASHING), kept there for the
    # retention period (DELETED), on its way back (RESTORING). Hidden throughout.
    TRASHING = "trashing"
    DELETED = "deleted"
    RESTORING = "restoring"


# The states in which clients see an organization; every other one is hidden.
VISIBLE = frozenset({LifecycleState.ACTIVE, LifecycleState.RENAMING, LifecycleState.MOVING})
# The states in which no operation is under way (recovery leaves them alone).
SETTLED = frozenset({LifecycleState.ACTIVE, LifecycleState.DELETED})


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
class Trash:
    """A soft-deleted organization's stay in the trash: where its collection waits (in the
    organization's database) and until when it can be restored."""

    collection: str
    deleted_at: datetime
    purge_after: datetime


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
    # Set from a soft delete until the organization is restored or purged.
    trash: Trash | None = None

    @property
    def visible(self) -> bool:
        """Whether clients see it: not while it is being provisioned or deleted."""
        return self.state in VISIBLE

    @property
    def namespace(self) -> TenantNamespace:
        return TenantNamespace(self.tenant_database, self.tenant_collection)

    @property
    def trash_namespace(self) -> TenantNamespace | None:
        return self.namespace_of(self.trash.collection) if self.trash else None

    def namespace_of(self, collection: str) -> TenantNamespace:
        """Another collection in the organization's database (renames stay inside it)."""
        return TenantNamespace(self.tenant_database, collection)

    @classmethod
    def from_document(cls, document: Document) -> "Organization":
        pending = document.get("pending_rename")
        move = document.get("pending_move")
        trash = document.get("trash")
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
            trash=Trash(**trash) if trash else None,
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
        if self.trash:
            document["trash"] = asdict(self.trash)
        return document
