"""How recovery reads a membership to judge a pending event about it."""

from typing import Any

from bson import ObjectId

from app.accounts.memberships import MembershipRepository
from app.events.models import Subject
from app.events.outbox import SubjectReader

MEMBERSHIP = "membership"


def membership_subject(account_id: ObjectId, organization_id: ObjectId, **expect: Any) -> Subject:
    """`role=...` for a membership that must have that role, `present=False` for one gone."""
    key = {"account_id": str(account_id), "organization_id": str(organization_id)}
    return Subject(MEMBERSHIP, key, expect)


def membership_reader(memberships: MembershipRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        membership = await memberships.get(
            ObjectId(key["account_id"]), ObjectId(key["organization_id"])
        )
        return {"role": membership.role} if membership else None

    return read
