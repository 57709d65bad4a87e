"""Accounts as stored in the master database."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bson import ObjectId

from app.db.store import Document


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    BILLING_ADMIN = "billing_admin"
    MEMBER = "member"
    VIEWER = "viewer"


def email_key(email: str) -> str:
    """Emails are unique regardless of case: `Admin@Example.com` and `admin@example.com` clash."""
    return email.strip().casefold()


@dataclass(frozen=True, slots=True)
class Account:
    """A person who can log in. Their roles live in memberships, one per organization.

    `organization_id` is the account's home organization (the one it was created for, or
    its earliest remaining membership): where a login without a choice lands.
    """

    id: ObjectId
    email: str
    password_hash: str
    organization_id: ObjectId
    created_at: datetime
    # Raised to invalidate every token issued to the account before ("log out everywhere").
    token_version: int = 0

    @classmethod
    def from_document(cls, document: Document) -> "Account":
        return cls(
            id=document["_id"],
            email=document["email"],
            password_hash=document["password_hash"],
            organization_id=document["organization_id"],
            created_at=document["created_at"],
            token_version=document.get("token_version", 0),
        )

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "email": self.email,
            "email_key": email_key(self.email),
            "password_hash": self.password_hash,
            "organization_id": self.organization_id,
            "created_at": self.created_at,
            "token_version": self.token_version,
        }
