"""What an event is, stored (`events`) and while it waits for its change (`event_streams`)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId

from app.access.keys import KeyKind
from app.access.principal import Principal
from app.kit.times import rfc3339


class ActorKind(StrEnum):
    ACCOUNT = "account"
    API_KEY = "api_key"
    OPERATOR = "operator"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made the change: a signed-in account, an organization's API key, an operator (at
    the command line, or through the platform API with a platform key), or the service itself
    (recovery, expiry and retention sweeps, the webhook worker). A key is named by its prefix
    (`tko_...`, `tkp_...`) in `id`; `email` is then None."""

    kind: ActorKind
    id: str | None = None
    email: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> "Actor":
        if principal.api_key is not None:
            if principal.api_key.startswith(f"{KeyKind.PLATFORM.value}_"):
                return cls.platform_key(principal.api_key)
            return cls(ActorKind.API_KEY, principal.api_key)
        return cls(ActorKind.ACCOUNT, str(principal.account_id), principal.email)

    @classmethod
    def platform_key(cls, prefix: str) -> "Actor":
        """An operator acting through the platform API with the key of this prefix."""
        return cls(ActorKind.OPERATOR, prefix)

    @classmethod
    def account(cls, account_id: ObjectId, email: str | None) -> "Actor":
        return cls(ActorKind.ACCOUNT, str(account_id), email)

    def to_document(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "id": self.id, "email": self.email}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "Actor":
        return cls(ActorKind(document["kind"]), document.get("id"), document.get("email"))


SYSTEM = Actor(ActorKind.SYSTEM)
OPERATOR = Actor(ActorKind.OPERATOR)


def event_id(organization_id: ObjectId, sequence: int) -> str:
    """`evt_<organization>_<sequence>`: unique, and in order within the organization."""
    return f"evt_{organization_id}_{sequence:012d}"


@dataclass(frozen=True, slots=True)
class Subject:
    """What a change was about and what it must look like once in effect, so that recovery
    can tell whether a change whose process died took effect: `kind` names the reader
    (organization, membership, invitation, workspace, workspace_member), `key` finds the
    object, `expect` holds the fields it has after the change (`{"present": False}` for a
    removal)."""

    kind: str
    key: dict[str, Any]
    expect: dict[str, Any] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "expect": self.expect}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "Subject":
        return cls(document["kind"], document.get("key") or {}, document.get("expect") or {})


@dataclass(slots=True)
class Draft:
    """An event about to happen: recorded before its change, committed once it is in effect."""

    type: str
    organization_id: ObjectId
    actor: Actor
    data: dict[str, Any]
    subject: Subject
    sequence: int = 0
    begun_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    skipped: bool = False

    def skip(self) -> None:
        """The change turned out to change nothing: no event."""
        self.skipped = True


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    organization_id: ObjectId
    sequence: int
    type: str
    occurred_at: datetime
    actor: Actor
    data: dict[str, Any]

    def to_document(self, expires_at: datetime) -> dict[str, Any]:
        return {
            "_id": self.id,
            "organization_id": self.organization_id,
            "sequence": self.sequence,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "actor": self.actor.to_document(),
            "data": self.data,
            "expires_at": expires_at,
            # Until the webhook worker has made its deliveries (see app.webhooks.fanout).
            "fanout_pending": True,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "Event":
        occurred: datetime = document["occurred_at"]
        return cls(
            id=document["_id"],
            organization_id=document["organization_id"],
            sequence=document["sequence"],
            type=document["type"],
            occurred_at=occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
            actor=Actor.from_document(document["actor"]),
            data=document.get("data") or {},
        )

    def public(self) -> dict[str, Any]:
        """The event as the pull API and webhooks carry it."""
        return {
            "id": self.id,
            "type": self.type,
            "occurred_at": rfc3339(self.occurred_at),
            "organization_id": str(self.organization_id),
            "sequence": self.sequence,
            "actor": self.actor.to_document(),
            "data": self.data,
        }
