"""Organization domains and join requests as stored (`organization_domains`, `join_requests`)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bson import ObjectId

from app.access.roles import Role
from app.db.store import Document


class DomainStatus(StrEnum):
    PENDING = "pending"  # added, its TXT record not yet found
    VERIFIED = "verified"
    LAPSED = "lapsed"  # verified once; a later check found the record gone


class JoinPolicy(StrEnum):
    MANUAL = "manual"  # joining only by invitation
    SUGGEST = "suggest"  # accounts at the domain may ask; owners and admins decide
    AUTO = "auto"  # accounts at the domain join at once


class JoinRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


def _aware(moment: object) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _required(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Domain:
    id: ObjectId
    organization_id: ObjectId
    domain: str
    token: str  # published in DNS, so no secret: shown to every member
    status: DomainStatus
    join_policy: JoinPolicy
    default_role: Role
    created_at: datetime
    created_by: ObjectId
    verified_at: datetime | None = None
    last_checked_at: datetime | None = None
    last_check_error: str | None = None
    lapsed_at: datetime | None = None

    @property
    def verified(self) -> bool:
        return self.status is DomainStatus.VERIFIED

    @property
    def open_to_joiners(self) -> bool:
        """Whether accounts at the domain see the organization: only while it is verified."""
        return self.verified and self.join_policy is not JoinPolicy.MANUAL

    @classmethod
    def from_document(cls, document: Document) -> "Domain":
        return cls(
            id=document["_id"],
            organization_id=document["organization_id"],
            domain=document["domain"],
            token=document["token"],
            status=DomainStatus(document.get("status", DomainStatus.PENDING.value)),
            join_policy=JoinPolicy(document.get("join_policy", JoinPolicy.MANUAL.value)),
            default_role=Role(document.get("default_role", Role.MEMBER.value)),
            created_at=_required(document["created_at"]),
            created_by=document["created_by"],
            verified_at=_aware(document.get("verified_at")),
            last_checked_at=_aware(document.get("last_checked_at")),
            last_check_error=document.get("last_check_error"),
            lapsed_at=_aware(document.get("lapsed_at")),
        )

    def to_document(self) -> Document:
        return {
            "_id": self.id,
            "organization_id": self.organization_id,
            "domain": self.domain,
            "token": self.token,
            "status": self.status.value,
            "join_policy": self.join_policy.value,
            "default_role": self.default_role.value,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "verified_at": self.verified_at,
            "last_checked_at": self.last_checked_at,
            "last_check_error": self.last_check_error,
            "lapsed_at": self.lapsed_at,
        }


def join_request_key(organization_id: ObjectId, account_id: ObjectId) -> str:
    return f"{organization_id}:{account_id}"


@dataclass(frozen=True, slots=True)
class JoinRequest:
    id: ObjectId
    organization_id: ObjectId
    account_id: ObjectId
    email: str
    domain: str
    status: JoinRequestStatus
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: ObjectId | None = None
    role: Role | None = None  # the role given on approval

    @classmethod
    def from_document(cls, document: Document) -> "JoinRequest":
        role = document.get("role")
        return cls(
            id=document["_id"],
            organization_id=document["organization_id"],
            account_id=document["account_id"],
            email=document["email"],
            domain=document["domain"],
            status=JoinRequestStatus(document["status"]),
            created_at=_required(document["created_at"]),
            decided_at=_aware(document.get("decided_at")),
            decided_by=document.get("decided_by"),
            role=Role(role) if role else None,
        )

    def to_document(self) -> Document:
        document: Document = {
            "_id": self.id,
            "organization_id": self.organization_id,
            "account_id": self.account_id,
            "email": self.email,
            "domain": self.domain,
            "status": self.status.value,
            "created_at": self.created_at,
            "decided_at": self.decided_at,
            "decided_by": self.decided_by,
            "role": self.role.value if self.role else None,
        }
        if self.status is JoinRequestStatus.PENDING:
            # One pending request per account and organization; decided ones drop the key.
            document["pending_key"] = join_request_key(self.organization_id, self.account_id)
        return document
