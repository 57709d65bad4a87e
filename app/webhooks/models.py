"""Stored shapes: endpoints (`webhook_endpoints`), deliveries (`webhook_deliveries`) and the
log of attempts (`webhook_attempts`)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def maybe_aware(moment: datetime | None) -> datetime | None:
    return aware(moment) if moment else None


@dataclass(frozen=True, slots=True)
class SigningSecret:
    """One signing secret, sealed at rest; `expires_at` is set on the old one by a rotation."""

    sealed: bytes
    created_at: datetime
    expires_at: datetime | None = None

    def to_document(self) -> dict[str, Any]:
        return {"sealed": self.sealed, "created_at": self.created_at, "expires_at": self.expires_at}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "SigningSecret":
        return cls(
            bytes(document["sealed"]),
            aware(document["created_at"]),
            maybe_aware(document.get("expires_at")),
        )

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


class Dormancy(StrEnum):
    """An endpoint of an organization that is deleted: held until a restore, or purged (to be
    removed once its last deliveries are made). Either way it is sent only `FINAL_TYPES`."""

    DELETED = "deleted"
    PURGED = "purged"


# What the endpoints of a deleted organization are still sent.
FINAL_TYPES = ("organization.deleted", "organization.purged")


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: ObjectId
    organization_id: ObjectId
    url: str
    types: list[str]
    description: str
    enabled: bool
    secrets: list[SigningSecret]
    created_at: datetime
    failing_since: datetime | None = None
    disabled_reason: str | None = None
    dormant: Dormancy | None = None

    def sends(self, event_type: str) -> bool:
        """Whether a delivery of this type goes out now (else it is held, or given up)."""
        return self.dormant is None or event_type in FINAL_TYPES

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "_id": self.id,
            "organization_id": self.organization_id,
            "url": self.url,
            "types": self.types,
            "description": self.description,
            "enabled": self.enabled,
            "secrets": [s.to_document() for s in self.secrets],
            "created_at": self.created_at,
        }
        return document

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "Endpoint":
        return cls(
            id=document["_id"],
            organization_id=document["organization_id"],
            url=document["url"],
            types=list(document.get("types") or []),
            description=document.get("description") or "",
            enabled=bool(document.get("enabled")),
            secrets=[SigningSecret.from_document(s) for s in document.get("secrets") or []],
            created_at=aware(document["created_at"]),
            failing_since=maybe_aware(document.get("failing_since")),
            disabled_reason=document.get("disabled_reason"),
            dormant=Dormancy(document["dormant"]) if document.get("dormant") else None,
        )


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt of the schedule failed, or the endpoint went away
    # Its organization is deleted: waits, unattempted, for a restore (or goes with a purge).
    HELD = "held"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event (or test message) for one endpoint, tried until it succeeds or the schedule
    runs out. `message_id` is the `webhook-id` header: the event's id, the same on every
    attempt and redelivery, so receivers can drop duplicates."""

    id: str
    organization_id: ObjectId
    endpoint_id: ObjectId
    message_id: str
    event_type: str
    payload: str
    state: DeliveryState
    attempts: int
    due_at: datetime
    created_at: datetime

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "Delivery":
        return cls(
            id=document["_id"],
            organization_id=document["organization_id"],
            endpoint_id=document["endpoint_id"],
            message_id=document["message_id"],
            event_type=document["event_type"],
            payload=document["payload"],
            state=DeliveryState(document["state"]),
            attempts=int(document.get("attempts") or 0),
            due_at=aware(document["due_at"]),
            created_at=aware(document["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: a status (None when no answer came) and how long it took."""

    status: int | None
    latency_ms: float
    excerpt: str = ""
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Attempt:
    id: ObjectId
    delivery_id: str
    endpoint_id: ObjectId
    message_id: str
    event_type: str
    at: datetime
    number: int
    outcome: Outcome
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "Attempt":
        return cls(
            id=document["_id"],
            delivery_id=document["delivery_id"],
            endpoint_id=document["endpoint_id"],
            message_id=document["message_id"],
            event_type=document["event_type"],
            at=aware(document["at"]),
            number=int(document["number"]),
            outcome=Outcome(
                document.get("status"),
                float(document.get("latency_ms") or 0),
                document.get("excerpt") or "",
                document.get("error"),
            ),
        )
