"""Every query behind billing: the plan and billing details kept on the organization's
registry entry, and the counts a change of plan is checked against."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypedDict

from bson import ObjectId
from pymongo import ReturnDocument

from app.db.schema import INVITATIONS, ORGANIZATIONS
from app.db.store import Document, Store
from app.invitations.repository import live_pending
from app.organizations.repository import VISIBLE_STATES


class Plan(StrEnum):
    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True, slots=True)
class PostalAddress:
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, object]) -> "PostalAddress":
        return cls(
            line1=_text(document.get("line1")) or "",
            city=_text(document.get("city")) or "",
            postal_code=_text(document.get("postal_code")) or "",
            country=_text(document.get("country")) or "",
            line2=_text(document.get("line2")),
            region=_text(document.get("region")),
        )

    def to_document(self) -> Document:
        # Operators see only the parts an address has, not a row of nulls.
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True, slots=True)
class BillingRecord:
    """What the registry holds; `plan` is None when the organization never chose one."""

    plan: Plan | None = None
    billing_email: str | None = None
    billing_address: PostalAddress | None = None
    stripe_customer_id: str | None = None
    lago_customer_id: str | None = None

    @classmethod
    def from_document(cls, document: Document) -> "BillingRecord":
        billing: Mapping[str, object] = document.get("billing") or {}
        address = billing.get("billing_address")
        plan = document.get("plan")
        return cls(
            plan=_plan(plan),
            billing_email=_text(billing.get("billing_email")),
            billing_address=PostalAddress.from_document(address)
            if isinstance(address, Mapping)
            else None,
            stripe_customer_id=_text(billing.get("stripe_customer_id")),
            lago_customer_id=_text(billing.get("lago_customer_id")),
        )


class BillingChanges(TypedDict, total=False):
    """The fields a change sets; None clears an optional one. Absent fields stay as they are."""

    plan: Plan
    billing_email: str | None
    billing_address: PostalAddress | None
    stripe_customer_id: str | None
    lago_customer_id: str | None


# `plan` sits at the top of the registry entry; everything else in its `billing` subdocument.
# (`_id` stays in: mongomock's find_one_and_update answers None when it is projected out.)
_PROJECTION = {"plan": 1, "billing": 1}


class BillingRepository:
    def __init__(self, store: Store) -> None:
        self._organizations = store.master[ORGANIZATIONS]
        self._invitations = store.master[INVITATIONS]

    async def get(self, organization_id: ObjectId) -> BillingRecord | None:
        document = await self._organizations.find_one(
            {"_id": organization_id, "state": {"$in": VISIBLE_STATES}}, _PROJECTION
        )
        return BillingRecord.from_document(document) if document is not None else None

    async def update(
        self, organization_id: ObjectId, changes: BillingChanges
    ) -> BillingRecord | None:
        """Apply `changes` field by field and return the result; None if no such organization.

        Each field is its own `$set`/`$unset` path, so concurrent changes to different fields
        do not overwrite each other.
        """
        to_set: Document = {"modified_at": datetime.now(UTC)}
        to_unset: Document = {}
        for field, value in changes.items():
            path = field if field == "plan" else f"billing.{field}"
            if value is None:
                to_unset[path] = ""
            elif isinstance(value, PostalAddress):
                to_set[path] = value.to_document()
            else:
                to_set[path] = str(value)
        update: Document = {"$set": to_set}
        if to_unset:
            update["$unset"] = to_unset
        document = await self._organizations.find_one_and_update(
            {"_id": organization_id, "state": {"$in": VISIBLE_STATES}},
            update,
            projection=_PROJECTION,
            return_document=ReturnDocument.AFTER,
        )
        return BillingRecord.from_document(document) if document is not None else None

    async def count_pending_invitations(self, organization_id: ObjectId) -> int:
        # Zero, correctly, while no invitation was ever sent and the collection does not exist.
        return await self._invitations.count_documents(live_pending(organization_id))


def _plan(value: object) -> "Plan | None":
    """The stored plan; an unknown value (typed in by hand) reads as the default plan."""
    try:
        return Plan(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
