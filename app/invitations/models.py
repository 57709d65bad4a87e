"""Invitations as stored in the master database (`invitations`).

Only a SHA-256 digest of each token is stored: a leaked database cannot be used to accept
invitations. While an invitation is pending it carries `pending_key` (organization and
email), which a unique index keeps to one pending invitation per person and organization.
A resend moves the token's digest to `replaced_token_digests` (the latest few only), so an
old link can be told apart from one that never existed.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bson import ObjectId

from app.access.roles import RoleName
from app.db.store import Document


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pending_key(organization_id: ObjectId, email_key: str) -> str:
    return f"{organization_id}:{email_key}"


@dataclass(frozen=True, slots=True)
class Invitation:
    id: ObjectId
    organization_id: ObjectId
    email: str
    role: RoleName
    status: InvitationStatus
    invited_by: ObjectId
    created_at: datetime
    expires_at: datetime
    token_digest: str

    @classmethod
    def from_document(cls, document: Document) -> "Invitation":
        expires_at: datetime = document["expires_at"]
        return cls(
            id=document["_id"],
            organization_id=document["organization_id"],
            email=document["email"],
            role=document["role"],
            status=InvitationStatus(document["status"]),
            invited_by=document["invited_by"],
            created_at=document["created_at"],
            expires_at=expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC),
            token_digest=document["token_digest"],
        )

    def expired(self, now: datetime) -> bool:
        return self.status is InvitationStatus.PENDING and self.expires_at <= now

    @property
    def effective_status(self) -> InvitationStatus:
        if self.expired(datetime.now(UTC)):
            return InvitationStatus.EXPIRED
        return self.status
