"""How recovery reads an organization to judge a pending event about it (`Outbox.register`)."""

from typing import Any

from bson import ObjectId

from app.events.models import Subject
from app.events.outbox import SubjectReader, Unsettled
from app.kit.times import rfc3339
from app.registry.models import LifecycleState, Organization
from app.registry.repository import OrganizationRepository

ORGANIZATION = "organization"
_UNDER_WAY = {
    LifecycleState.PROVISIONING,
    LifecycleState.RENAMING,
    LifecycleState.MOVING,
    LifecycleState.TRASHING,
    LifecycleState.RESTORING,
}


def flatten(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"a": {"b": 1}}` as `{"a.b": 1}`: expectations name the paths a change sets."""
    flat: dict[str, Any] = {}
    for name, value in document.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def organization_subject(organization_id: ObjectId) -> dict[str, Any]:
    return {"id": str(organization_id)}


def organization_reader(organizations: OrganizationRepository) -> SubjectReader:
    """The registry entry, flattened, with its lifecycle `state` (`deleted` while in the
    trash); absent once a delete for good is in effect (DELETING), and unsettled while a
    create, rename, move, soft delete or restore is under way (recovery finishes or undoes it
    first)."""

    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        organization_id = ObjectId(key["id"])
        organization = await organizations.get(organization_id)
        if organization is None or organization.state is LifecycleState.DELETING:
            return None
        if organization.state in _UNDER_WAY:
            raise Unsettled()
        fields = {
            "state": organization.state.value,
            "name": organization.name,
            "tenant_collection": organization.tenant_collection,
            "tenant_database": organization.tenant_database,
            "status": organization.status.value,
            "plan": await organizations.plan_of(organization_id),
        }
        billing = await organizations.billing_of(organization_id) or {}
        fields.update(flatten({"billing": billing.get("billing") or {}}))
        profile = await organizations.profile_of(organization_id)
        fields.update(flatten({"profile": profile}))
        return fields

    return read


def organization_data(organization: Organization, admin_email: str | None = None) -> dict[str, Any]:
    """The organization as the API shows it."""
    data: dict[str, Any] = {
        "id": str(organization.id),
        "organization_name": organization.name,
        "organization_identifier": organization.identifier,
        "tenant_collection": organization.tenant_collection,
        "status": organization.status.value,
        "created_at": rfc3339(organization.created_at),
    }
    if admin_email is not None:
        data["admin_email"] = admin_email
    return data


def organization_event_subject(organization_id: ObjectId, **expect: Any) -> Subject:
    return Subject(ORGANIZATION, organization_subject(organization_id), expect)
