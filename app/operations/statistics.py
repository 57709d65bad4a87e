"""How the deployment is spread: organizations by state, status and plan; the largest tenants."""

from dataclasses import dataclass

from app.config import Settings
from app.db.store import Store, TenantNamespace
from app.operations.registry import OperatorRegistry
from app.operations.tenant_catalog import TenantCatalog
from app.plans import Plan
from app.registry.models import LifecycleState, Status
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCollections


@dataclass(frozen=True, slots=True)
class TenantSize:
    organization: str
    collection: str
    documents: int
    storage_bytes: int | None


@dataclass(frozen=True, slots=True)
class Statistics:
    totals: dict[str, int]
    by_state: dict[str, int]
    by_status: dict[str, int]
    by_plan: dict[str, int]
    largest_by_documents: list[TenantSize]
    largest_by_storage: list[TenantSize]
    # False when the server reports no storage sizes (the in-memory store, some proxies).
    storage_known: bool


async def gather_statistics(store: Store, settings: Settings, top: int) -> Statistics:
    registry = OperatorRegistry(store, default_plan=settings.default_plan)
    by_status = {status.value: 0 for status in Status}
    by_status.update(await registry.organizations.count_by("status", Status.ACTIVE.value))
    by_plan = {plan.value: 0 for plan in Plan}
    by_plan.update(await registry.organizations.count_by("plan", settings.default_plan))
    sizes = await _tenant_sizes(store, registry)
    by_storage = sorted(
        (size for size in sizes if size.storage_bytes is not None),
        key=lambda size: size.storage_bytes or 0,
        reverse=True,
    )
    return Statistics(
        totals=await registry.totals(),
        by_state=await OrganizationRepository(store).count_by_state(),
        by_status=by_status,
        by_plan=by_plan,
        largest_by_documents=sorted(sizes, key=lambda size: size.documents, reverse=True)[:top],
        largest_by_storage=by_storage[:top],
        storage_known=bool(by_storage) or not sizes,
    )


async def _tenant_sizes(store: Store, registry: OperatorRegistry) -> list[TenantSize]:
    catalog = TenantCatalog(store)
    tenants = TenantCollections(store)
    existing = await catalog.tenant_namespaces()
    sizes = []
    for document in await registry.organizations.all_documents():
        collection = TenantNamespace(
            str(document.get("tenant_database") or store.default_tenant_db),
            str(document.get("tenant_collection")),
        )
        if document.get("state") != LifecycleState.ACTIVE.value or collection not in existing:
            continue
        sizes.append(
            TenantSize(
                organization=str(document.get("name", "?")),
                collection=str(collection),
                documents=await catalog.estimated_count(collection),
                storage_bytes=await tenants.storage_bytes(collection),
            )
        )
    return sizes
