"""Accounts and their memberships as stored in the master database (`accounts`,
`memberships`)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from bson import ObjectId

from app.access.roles import RoleName
from app.db.store import Document


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
    # When the account proved it receives mail at `email`; None (or, in documents from
    # before verification existed, no field at all) means it has not.
    email_verified_at: datetime | None = None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def email_domain(self) -> str:
        """The part after the `@`, lower case (IDNA-encoded as `email-validator` leaves it)."""
        return email_key(self.email).rpartition("@")[2]

    @classmethod
    def from_document(cls, document: Document) -> "Account":
        return cls(
            id=document["_id"],
            email=document["email"],
            password_hash=document["password_hash"],
            organization_id=document["organization_id"],
            created_at=document["created_at"],
            token_version=document.get("token_version", 0),
            email_verified_at=_moment(document.get("email_verified_at")),
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
            "email_verified_at": self.email_verified_at,
        }


def membership_id(account_id: ObjectId, organization_id: ObjectId) -> str:
    """The natural key `<account>:<organization>`: unique by construction, readable by
    operators, and every account's memberships form one `_id` range."""
    return f"{account_id}:{organization_id}"


@dataclass(frozen=True, slots=True)
class Membership:
    id: str
    account_id: ObjectId
    organization_id: ObjectId
    role: RoleName
    created_at: datetime
    # Raised when the role changes, so tokens carrying the old role stop working.
    version: int = 0
    # Who sent the invitation this membership came from; None for founders and for
    # memberships made another way (or before this was recorded).
    invited_by: ObjectId | None = None
    # When a token of the membership was last used, to within `ACTIVITY_INTERVAL` of
    # `app.sessions.service`; None until it is first used.
    last_active_at: datetime | None = None

    @classmethod
    def from_document(cls, document: Document) -> "Membership":
        return cls(
            id=document["_id"],
            account_id=document["account_id"],
            organization_id=document["organization_id"],
            role=document["role"],
            created_at=document["created_at"],
            version=document.get("version", 0),
            invited_by=document.get("invited_by"),
            last_active_at=_moment(document.get("last_active_at")),
        )

    def to_document(self) -> Document:
        document: Document = {
            "_id": self.id,
            "account_id": self.account_id,
            "organization_id": self.organization_id,
            "role": self.role,
            "created_at": self.created_at,
            "version": self.version,
        }
        if self.invited_by is not None:
            document["invited_by"] = self.invited_by
        if self.last_active_at is not None:
            document["last_active_at"] = self.last_active_at
        return document


def _moment(value: object) -> datetime | None:
    """A stored time as an aware UTC datetime; anything else (a hand-edited value) reads as
    none, so it is written again rather than trusted."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
