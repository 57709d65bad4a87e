"""Plan and billing details as the registry entry holds them: `plan` at the top, the rest in
its `billing` subdocument."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TypedDict

from app.db.store import Document
from app.plans import Plan


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


def update_paths(changes: BillingChanges) -> tuple[Document, list[str]]:
    """The registry paths a change sets and those it removes.

    Each field is its own path, so concurrent changes to different fields do not overwrite
    each other.
    """
    to_set: Document = {}
    to_unset: list[str] = []
    for field, value in changes.items():
        path = field if field == "plan" else f"billing.{field}"
        if value is None:
            to_unset.append(path)
        elif isinstance(value, PostalAddress):
            to_set[path] = value.to_document()
        else:
            to_set[path] = str(value)
    return to_set, to_unset


def _plan(value: object) -> "Plan | None":
    """The stored plan; an unknown value (typed in by hand) reads as the default plan."""
    try:
        return Plan(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
