"""Organizations as operators look them up: by name or id, in any lifecycle state."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.config import Settings
from app.db.store import Document, Store, TenantNamespace
from app.operations.registry import OperatorRegistry
from app.operations.tenant_catalog import IndexSummary, TenantCatalog
from app.registry.errors import OperationInProgress, OrganizationNotFound
from app.registry.models import LifecycleState, Organization
from app.registry.repository import OrganizationFilter
from app.registry.tenants import TenantCollections


@dataclass(frozen=True, slots=True)
class OrganizationRow:
    id: str
    name: str
    identifier: str
    state: str
    status: str
    plan: str
    tenant_database: str
    tenant_collection: str
    members: int


@dataclass(frozen=True, slots=True)
class TenantCollectionReport:
    name: str
    exists: bool
    documents: int | None
    indexes: list[IndexSummary]
    storage_bytes: int | None


@dataclass(frozen=True, slots=True)
class OrganizationReport:
    registry: dict[str, Any]
    owners: list[str]
    members: int
    tenant: TenantCollectionReport


async def resolve_organization(store: Store, settings: Settings, reference: str) -> Organization:
    """The organization named (compared as the service compares names) or with that id."""
    registry = OperatorRegistry(store, default_plan=settings.default_plan)
    document = await registry.organizations.find_any(reference)
    if document is None:
        raise OrganizationNotFound(reference)
    return Organization.from_document(document)


async def resolve_settled_organization(
    store: Store, settings: Settings, reference: str
) -> Organization:
    """As `resolve_organization`, refusing one whose collection an operation may be moving."""
    organization = await resolve_organization(store, settings, reference)
    if organization.state is not LifecycleState.ACTIVE:
        raise OperationInProgress(organization.name, organization.state.value)
    return organization


async def list_organizations(
    store: Store, settings: Settings, where: OrganizationFilter
) -> list[OrganizationRow]:
    registry = OperatorRegistry(store, default_plan=settings.default_plan)
    documents = await registry.list_organizations(where)
    members = await registry.memberships.counts_by_organization(
        [document["_id"] for document in documents]
    )
    return [
        OrganizationRow(
            id=str(document["_id"]),
            name=str(document.get("name", "?")),
            identifier=str(document.get("identifier", "?")),
            state=str(document.get("state", "?")),
            status=str(document.get("status") or "active"),
            plan=registry.plan_of(document),
            tenant_database=str(document.get("tenant_database") or store.default_tenant_db),
            tenant_collection=str(document.get("tenant_collection", "?")),
            members=members.get(document["_id"], 0),
        )
        for document in documents
    ]


async def describe_organization(
    store: Store, settings: Settings, reference: str
) -> OrganizationReport:
    registry = OperatorRegistry(store, default_plan=settings.default_plan)
    document = await registry.organizations.find_any(reference)
    if document is None:
        raise OrganizationNotFound(reference)
    collection = TenantNamespace(
        str(document.get("tenant_database") or ""), str(document.get("tenant_collection", ""))
    )
    members = await registry.memberships.counts_by_organization([document["_id"]])
    return OrganizationReport(
        registry=_registry_fields(document, registry.plan_of(document)),
        owners=await registry.owner_emails(document["_id"]),
        members=members.get(document["_id"], 0),
        tenant=await _tenant_report(store, collection),
    )


def _registry_fields(document: Document, plan: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        key: _shown(value)
        for key, value in document.items()
        # Profile and billing details are the organization's business, not an operator's.
        if key not in {"profile", "billing"}
    }
    fields.setdefault("status", "active")
    fields["plan"] = plan if "plan" in document else f"{plan} (default)"
    return fields


def _shown(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dict):
        return {key: _shown(item) for key, item in value.items()}
    return value if isinstance(value, int | float | bool | str) else str(value)


async def _tenant_report(store: Store, collection: TenantNamespace) -> TenantCollectionReport:
    tenants = TenantCollections(store)
    catalog = TenantCatalog(store)
    collection = store.resolve(collection)
    if not collection.collection or not await catalog.exists(collection):
        return TenantCollectionReport(str(collection), False, None, [], None)
    return TenantCollectionReport(
        name=str(collection),
        exists=True,
        documents=await tenants.count(collection),
        indexes=await catalog.indexes(collection),
        storage_bytes=await tenants.storage_bytes(collection),
    )
