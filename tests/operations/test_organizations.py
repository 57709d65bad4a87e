"""Organizations as operators look them up: resolve, list and describe."""

from typing import Any

import pytest
from bson import ObjectId
from httpx import AsyncClient

from app.access.roles import Role
from app.config import Settings
from app.db.store import Store, TenantNamespace
from app.operations.organizations import (
    OrganizationRow,
    describe_organization,
    list_organizations,
    resolve_organization,
    resolve_settled_organization,
)
from app.operations.tenant_catalog import IndexSummary
from app.registry.errors import OperationInProgress, OrganizationNotFound
from app.registry.models import LifecycleState
from app.registry.repository import OrganizationFilter
from tests.operations.registry_edits import edit_entry
from tests.support import add_account, created_org, tenants

ACME, WIDGETS, GLOBEX = "Acme (Rockets)", "Acme Widgets", "Globex"


async def seed(client: AsyncClient, store: Store) -> dict[str, dict[str, Any]]:
    organizations = {
        name: await created_org(client, name, f"owner@{slug}.example")
        for name, slug in ((ACME, "acme"), (WIDGETS, "widgets"), (GLOBEX, "globex"))
    }
    acme, globex = organizations[ACME], organizations[GLOBEX]
    await edit_entry(store, acme["id"], {"$set": {"plan": "pro"}})
    await edit_entry(store, globex["id"], {"$set": {"status": "suspended"}})
    await add_account(store, acme["id"], "member@acme.example", Role.MEMBER)
    collection = tenants(store)[acme["tenant_collection"]]
    await collection.insert_many([{"n": n} for n in range(7)])
    await collection.create_index("n", name="by_n", unique=True)
    return organizations


@pytest.mark.parametrize(
    "reference",
    ["{id}", "  {id_upper}  ", "Acme (Rockets)", "  acme   (ROCKETS) "],
)
async def test_resolve_finds_an_organization_by_id_or_by_name(
    client: AsyncClient, store: Store, settings: Settings, reference: str
) -> None:
    acme = (await seed(client, store))[ACME]
    typed = reference.format(id=acme["id"], id_upper=acme["id"].upper())

    organization = await resolve_organization(store, settings, typed)

    assert organization.id == ObjectId(acme["id"])
    assert organization.name == ACME
    assert organization.identifier == "acme-rockets"
    assert organization.namespace == TenantNamespace(store.default_tenant_db, "tenant_acme_rockets")


async def test_a_name_that_looks_like_an_id_still_resolves_by_name(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    looks_like_an_id = str(ObjectId())
    created = await created_org(client, looks_like_an_id, "hex@example.com")

    organization = await resolve_organization(store, settings, looks_like_an_id)

    assert organization.id == ObjectId(created["id"])


@pytest.mark.parametrize("reference", ["Nobody Inc", "6650c0d2f1a4b8e9c3d2a1af", ""])
async def test_resolve_refuses_an_unknown_reference(
    client: AsyncClient, store: Store, settings: Settings, reference: str
) -> None:
    await seed(client, store)

    with pytest.raises(OrganizationNotFound) as refused:
        await resolve_organization(store, settings, reference)

    assert repr(reference) in refused.value.message


async def test_resolve_sees_every_state_and_resolve_settled_only_active(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    acme = (await seed(client, store))[ACME]
    await edit_entry(store, acme["id"], {"$set": {"state": "deleting"}})

    found = await resolve_organization(store, settings, ACME)
    with pytest.raises(OperationInProgress) as refused:
        await resolve_settled_organization(store, settings, ACME)

    assert found.state is LifecycleState.DELETING
    assert "'deleting'" in refused.value.message
    assert (await resolve_settled_organization(store, settings, WIDGETS)).name == WIDGETS


async def test_list_gives_every_organization_by_name_with_its_columns(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organizations = await seed(client, store)

    rows = await list_organizations(store, settings, OrganizationFilter())

    assert [row.name for row in rows] == [ACME, WIDGETS, GLOBEX]
    assert rows[0] == OrganizationRow(
        id=organizations[ACME]["id"],
        name=ACME,
        identifier="acme-rockets",
        state="active",
        status="active",
        plan="pro",
        tenant_database=store.default_tenant_db,
        tenant_collection="tenant_acme_rockets",
        members=2,
    )
    assert (rows[1].plan, rows[1].members) == ("free", 1)
    assert rows[2].status == "suspended"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (OrganizationFilter(name_contains="ACME"), [ACME, WIDGETS]),
        (OrganizationFilter(name_contains="(rockets)"), [ACME]),
        (OrganizationFilter(name_contains=".*"), []),
        (OrganizationFilter(status="suspended"), [GLOBEX]),
        (OrganizationFilter(status="active"), [ACME, WIDGETS]),
        (OrganizationFilter(plan="free"), [WIDGETS, GLOBEX]),
        (OrganizationFilter(plan="pro"), [ACME]),
        (OrganizationFilter(state="deleting"), []),
        (OrganizationFilter(limit=2), [ACME, WIDGETS]),
        (OrganizationFilter(name_contains="acme", plan="free"), [WIDGETS]),
    ],
)
async def test_list_filters(
    client: AsyncClient,
    store: Store,
    settings: Settings,
    where: OrganizationFilter,
    expected: list[str],
) -> None:
    await seed(client, store)

    rows = await list_organizations(store, settings, where)

    assert [row.name for row in rows] == expected


async def test_describe_reports_registry_members_and_tenant_collection(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organizations = await seed(client, store)
    widgets = organizations[WIDGETS]
    await edit_entry(
        store, widgets["id"], {"$set": {"profile": {"secret": 1}, "billing": {"card": "4242"}}}
    )

    acme = await describe_organization(store, settings, organizations[ACME]["id"])
    other = await describe_organization(store, settings, WIDGETS)

    assert acme.owners == ["owner@acme.example"]
    assert acme.members == 2
    assert acme.registry["identifier"] == "acme-rockets"
    assert acme.registry["plan"] == "pro"
    assert acme.registry["_id"] == organizations[ACME]["id"]
    assert isinstance(acme.registry["created_at"], str)
    tenant = acme.tenant
    assert (tenant.name, tenant.exists, tenant.documents) == (
        f"{store.default_tenant_db}.tenant_acme_rockets",
        True,
        7,
    )
    assert IndexSummary("by_n", "n: 1", "unique=True") in tenant.indexes
    assert tenant.storage_bytes is None  # the in-memory store reports no sizes
    assert "profile" not in other.registry
    assert "billing" not in other.registry
    assert other.registry["plan"] == "free (default)"


async def test_describe_reports_a_missing_collection(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    await tenants(store).drop_collection(organization["tenant_collection"])

    report = await describe_organization(store, settings, organization["id"])

    assert (report.tenant.exists, report.tenant.documents, report.tenant.indexes) == (
        False,
        None,
        [],
    )


async def test_describe_refuses_an_unknown_reference(store: Store, settings: Settings) -> None:
    with pytest.raises(OrganizationNotFound):
        await describe_organization(store, settings, "Nobody Inc")
