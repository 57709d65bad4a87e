"""What the audit-log endpoint answers."""

from typing import Any

from pydantic import BaseModel, Field

from app.audit.trail import AuditEntry
from app.kit.times import Timestamp


class AuditEntryRead(BaseModel):
    id: str
    at: Timestamp
    action: str
    actor_id: str | None
    actor_email: str | None
    actor_key: str | None = Field(
        None,
        description="The API key that acted (its prefix), when a key rather than a person did.",
    )
    target: str | None
    client_address: str | None
    request_id: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditEntryRead":
        return cls(
            id=str(entry.id),
            at=entry.at,
            action=entry.action,
            actor_id=str(entry.actor_id) if entry.actor_id else None,
            actor_email=entry.actor_email,
            actor_key=entry.actor_key,
            target=entry.target,
            client_address=entry.client_address,
            request_id=entry.request_id,
            details=entry.details,
        )
