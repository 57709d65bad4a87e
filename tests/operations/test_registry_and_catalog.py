"""`OperatorRegistry` and `TenantCatalog`: the reads operator commands are built on."""

from datetime import UTC, datetime

import pytest
from bson import ObjectId
from httpx import AsyncClient

from app.access.roles import Role
from app.accounts.memberships import MembershipRepository
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.db.store import Document, Store, TenantNamespace
from app.operations.registry import OperatorRegistry
from app.operations.tenant_catalog import IndexSummary, TenantCatalog, namespaces_named_by
from app.plans import Plan
from tests.operations.registry_edits import edit_entry, registry_entry
from tests.support import add_account, created_org, tenants

DEFAULT = "default_db"


async def lonely(store: Store, email: str) -> ObjectId:
    account = Account(
        id=ObjectId(),
        email=email,
        password_hash="$2b$04$" + "x" * 53,
        organization_id=ObjectId(),
        created_at=datetime.now(UTC),
    )
    await AccountRepository(store).insert(account)
    return account.id


async def test_accounts_without_membership_are_found_among_members(
    client: AsyncClient, store: Store
) -> None:
    first_lonely = await lonely(store, "early@example.com")
    alpha = await created_org(client, "Alpha", "alpha@example.com")
    beta = await created_org(client, "Beta", "beta@example.com")
    # A member of two organizations, between the lonely ones in id order.
    both = await add_account(store, alpha["id"], "both@example.com", Role.MEMBER)
    await MembershipRepository(store).add(both, ObjectId(beta["id"]), Role.ADMIN)
    middle_lonely = await lonely(store, "middle@example.com")
    await add_account(store, beta["id"], "late@example.com", Role.VIEWER)
    last_lonely = await lonely(store, "last@example.com")

    found = await OperatorRegistry(store).accounts_without_membership()

    assert found == [
        (first_lonely, "early@example.com"),
        (middle_lonely, "middle@example.com"),
        (last_lonely, "last@example.com"),
    ]


async def test_member_counts_owner_emails_and_totals(client: AsyncClient, store: Store) -> None:
    organization = await created_org(client)
    organization_id = ObjectId(organization["id"])
    await add_account(store, organization["id"], "second@techcorp.com", Role.OWNER)
    await add_account(store, organization["id"], "dev@techcorp.com", Role.MEMBER)
    registry = OperatorRegistry(store)

    assert await registry.memberships.counts_by_organization() == {organization_id: 3}
    assert await registry.memberships.counts_by_organization([organization_id], Role.OWNER) == {
        organization_id: 2
    }
    assert await registry.memberships.counts_by_organization([ObjectId()]) == {}
    assert await registry.owner_emails(organization_id) == [
        "admin@techcorp.com",
        "second@techcorp.com",
    ]
    assert await registry.totals() == {
        "organizations": 1,
        "accounts": 3,
        "memberships": 3,
        "identifier claims": 1,
    }


async def test_the_owner_count_is_corrected_only_from_the_value_read(
    client: AsyncClient, store: Store
) -> None:
    organization = await created_org(client)
    await edit_entry(store, organization["id"], {"$set": {"owner_count": 4}})
    registry = OperatorRegistry(store)
    organization_id = ObjectId(organization["id"])

    stale = await registry.organizations.correct_owner_count(organization_id, 3, 1)
    assert (await registry_entry(store, organization["id"]))["owner_count"] == 4
    current = await registry.organizations.correct_owner_count(organization_id, 4, 1)

    assert (stale, current) == (False, True)
    assert (await registry_entry(store, organization["id"]))["owner_count"] == 1


async def test_points_to_names_collections_in_use_or_on_the_way(
    client: AsyncClient, store: Store
) -> None:
    organization = await created_org(client)
    database = store.default_tenant_db
    registry = OperatorRegistry(store)
    assert await registry.points_to(TenantNamespace(database, "tenant_tech_innovations_corp"))
    assert not await registry.points_to(
        TenantNamespace("elsewhere", "tenant_tech_innovations_corp")
    )
    assert not await registry.points_to(TenantNamespace(database, "tenant_other"))

    await edit_entry(
        store,
        organization["id"],
        {
            "$set": {
                "state": "renaming",
                "pending_rename": {
                    "name": "Renamed",
                    "name_key": "renamed",
                    "identifier": "renamed",
                    "tenant_collection": "tenant_renamed",
                    "copying": False,
                },
            }
        },
    )
    assert await registry.points_to(TenantNamespace(database, "tenant_renamed"))


def test_plan_of_falls_back_to_the_default(store: Store) -> None:
    registry = OperatorRegistry(store, default_plan=Plan.PRO)

    assert registry.plan_of({"plan": "enterprise"}) == "enterprise"
    assert registry.plan_of({}) == "pro"
    assert registry.plan_of({"plan": ""}) == "pro"
    assert registry.plan_of({"plan": None}) == "pro"


async def test_the_catalog_lists_pool_default_and_recorded_databases(
    client: AsyncClient, store: Store
) -> None:
    organization = await created_org(client)
    await edit_entry(store, organization["id"], {"$set": {"tenant_database": "tenantry_extra"}})

    databases = await TenantCatalog(store).databases()

    assert databases == sorted({*store.tenant_pool, store.default_tenant_db, "tenantry_extra"})


async def test_the_catalog_lists_only_tenant_collections(client: AsyncClient, store: Store) -> None:
    await created_org(client, "Alpha", "alpha@example.com")
    await created_org(client, "Beta", "beta@example.com")
    await tenants(store).create_collection("not_a_tenant")
    await tenants(store).create_collection("tenant_leftover")

    found = await TenantCatalog(store).tenant_namespaces()

    database = store.default_tenant_db
    assert found == {
        TenantNamespace(database, name)
        for name in ("tenant_alpha", "tenant_beta", "tenant_leftover")
    }


async def test_the_catalog_summarizes_indexes_and_counts(client: AsyncClient, store: Store) -> None:
    organization = await created_org(client)
    collection = tenants(store)[organization["tenant_collection"]]
    await collection.insert_many([{"n": n, "at": n} for n in range(3)])
    await collection.create_index([("n", 1), ("at", -1)], name="by_n_at", unique=True)
    namespace = TenantNamespace(store.default_tenant_db, organization["tenant_collection"])
    catalog = TenantCatalog(store)

    indexes = await catalog.indexes(namespace)

    assert [index.name for index in indexes] == sorted(index.name for index in indexes)
    assert IndexSummary("_id_", "_id: 1", "") in indexes
    assert IndexSummary("by_n_at", "n: 1, at: -1", "unique=True") in indexes
    assert await catalog.estimated_count(namespace) == 3
    assert await catalog.exists(namespace)
    assert not await catalog.exists(TenantNamespace(store.default_tenant_db, "tenant_nothing"))


def entry(**fields: object) -> Document:
    return {"_id": ObjectId(), "tenant_collection": "tenant_acme", **fields}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (entry(), {(DEFAULT, "tenant_acme")}),
        (entry(tenant_database=""), {(DEFAULT, "tenant_acme")}),
        (entry(tenant_database="db_2"), {("db_2", "tenant_acme")}),
        (
            entry(pending_rename={"tenant_collection": "tenant_acme_two"}),
            {(DEFAULT, "tenant_acme"), (DEFAULT, "tenant_acme_two")},
        ),
        (
            entry(tenant_database="db_1", pending_move={"source": "db_1", "target": "db_2"}),
            {("db_1", "tenant_acme"), ("db_2", "tenant_acme")},
        ),
        (
            entry(pending_move={"source": "", "target": "db_2"}),
            {(DEFAULT, "tenant_acme"), ("db_2", "tenant_acme")},
        ),
        ({"_id": ObjectId(), "tenant_collection": 42}, set()),
    ],
)
def test_namespaces_named_by_an_entry(document: Document, expected: set[tuple[str, str]]) -> None:
    found = namespaces_named_by(document, DEFAULT)

    assert found == {TenantNamespace(database, name) for database, name in expected}
