import asyncio

import pytest
from bson import ObjectId
from httpx import AsyncClient

from app.access.roles import Role
from app.db.schema import IDENTIFIER_CLAIMS, ORGANIZATIONS
from app.db.store import Store
from app.registry.models import Organization
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCollections
from tests.support import (
    EMAIL,
    NAME,
    PASSWORD,
    add_account,
    created_org,
    field_errors,
    login,
    rename,
    tenants,
)

OLD = "tenant_tech_innovations_corp"
NEW = "tenant_tech_innovations_corp_2_0"


async def seed_documents(store: Store, collection: str, count: int) -> list[ObjectId]:
    result = await tenants(store)[collection].insert_many(
        [{"n": i, "label": f"doc {i}"} for i in range(count)]
    )
    await tenants(store)[collection].create_index("label", name="by_label")
    return list(result.inserted_ids)


async def test_rename_moves_every_document_with_its_id_and_indexes(
    client: AsyncClient, store: Store
) -> None:
    created = await created_org(client)
    ids = await seed_documents(store, OLD, 42)
    token = await login(client)

    response = await rename(client, token, "Tech Innovations Corp 2.0")

    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Organization updated successfully"
    assert body["previous_collection"] == OLD
    assert body["current_collection"] == NEW
    assert body["documents_migrated"] == 42
    assert body["organization_identifier"] == "tech-innovations-corp-2-0"
    assert body["id"] == created["id"]
    assert await tenants(store).list_collection_names() == [NEW]
    moved = await tenants(store)[NEW].find({}).to_list()
    assert sorted(doc["_id"] for doc in moved) == sorted(ids)
    assert {doc["n"] for doc in moved} == set(range(42))
    assert "by_label" in await tenants(store)[NEW].index_information()


async def test_after_rename_the_new_name_is_found_and_the_old_is_not(client: AsyncClient) -> None:
    created = await created_org(client)
    token = await login(client)
    await rename(client, token, "Tech Innovations Corp 2.0")

    new = await client.get("/org/get", params={"organization_name": "Tech Innovations Corp 2.0"})
    old = await client.get("/org/get", params={"organization_name": NAME})

    assert new.status_code == 200
    assert new.json() == {
        "id": created["id"],
        "organization_name": "Tech Innovations Corp 2.0",
        "organization_identifier": "tech-innovations-corp-2-0",
        "tenant_collection": NEW,
        "admin_email": EMAIL,
    }
    assert old.status_code == 404


async def test_the_old_name_is_free_again_after_a_rename(client: AsyncClient, store: Store) -> None:
    await created_org(client)
    token = await login(client)
    await rename(client, token, "Tech Innovations Corp 2.0")

    again = await created_org(client, email="new@example.com")

    assert again["tenant_collection"] == OLD
    assert sorted(await tenants(store).list_collection_names()) == [OLD, NEW]
    assert await store.master[IDENTIFIER_CLAIMS].count_documents({}) == 2


async def test_the_token_keeps_working_after_a_rename(client: AsyncClient) -> None:
    await created_org(client)
    token = await login(client)
    await rename(client, token, "Second Name")

    response = await rename(client, token, "Third Name")

    assert response.status_code == 200
    assert response.json()["previous_collection"] == "tenant_second_name"


async def test_renaming_to_the_same_name_moves_nothing(client: AsyncClient, store: Store) -> None:
    await created_org(client)
    await seed_documents(store, OLD, 3)
    token = await login(client)

    response = await rename(client, token, NAME)

    assert response.status_code == 200
    body = response.json()
    assert body["previous_collection"] == body["current_collection"] == OLD
    assert body["documents_migrated"] == 3
    assert await tenants(store)[OLD].count_documents({}) == 3


async def test_a_case_or_punctuation_variant_rewrites_the_name_only(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client)
    await seed_documents(store, OLD, 3)
    token = await login(client)

    response = await rename(client, token, "TECH innovations, corp.")

    assert response.status_code == 200
    assert response.json()["current_collection"] == OLD
    assert response.json()["organization_name"] == "TECH innovations, corp."
    found = await client.get("/org/get", params={"organization_name": "tech innovations, corp."})
    assert found.status_code == 200
    assert await tenants(store)[OLD].count_documents({}) == 3


async def test_a_name_in_use_is_a_conflict_that_changes_nothing(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client)
    other = await created_org(client, name="Other Corp", email="other@example.com")
    await seed_documents(store, OLD, 5)
    token = await login(client)

    response = await rename(client, token, "other corp")

    assert response.status_code == 409
    assert sorted(await tenants(store).list_collection_names()) == [
        "tenant_other_corp",
        OLD,
    ]
    assert await tenants(store)[OLD].count_documents({}) == 5
    mine = await client.get("/org/get", params={"organization_name": NAME})
    theirs = await client.get("/org/get", params={"organization_name": "Other Corp"})
    assert mine.status_code == 200
    assert theirs.json() == other
    organization = await store.master[ORGANIZATIONS].find_one({"name": NAME})
    assert organization is not None
    assert organization["state"] == "active"
    assert "pending_rename" not in organization


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
)
async def test_without_a_valid_token_rename_is_401(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    await created_org(client)

    response = await client.put(
        "/org/update",
        json={"organization_name": "New", "email": EMAIL, "password": PASSWORD},
        headers=headers,
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_wrong_password_is_401(client: AsyncClient, store: Store) -> None:
    await created_org(client)
    token = await login(client)

    response = await rename(client, token, "New Name", password="WrongPassword1")

    assert response.status_code == 401
    assert await tenants(store).list_collection_names() == [OLD]


async def test_credentials_of_another_account_are_401(client: AsyncClient) -> None:
    await created_org(client)
    await created_org(client, name="Other Corp", email="other@example.com")
    token = await login(client)

    response = await rename(client, token, "New Name", email="other@example.com")

    assert response.status_code == 401


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER, Role.VIEWER])
async def test_a_role_without_rename_rights_is_403(
    client: AsyncClient, store: Store, role: Role
) -> None:
    created = await created_org(client)
    await add_account(store, created["id"], "someone@techcorp.com", role)
    token = await login(client, email="someone@techcorp.com")

    response = await rename(client, token, "Hijacked", email="someone@techcorp.com")

    assert response.status_code == 403
    assert await tenants(store).list_collection_names() == [OLD]


async def test_an_admin_may_rename(client: AsyncClient, store: Store) -> None:
    created = await created_org(client)
    await add_account(store, created["id"], "second@techcorp.com", Role.ADMIN)
    token = await login(client, email="second@techcorp.com")

    response = await rename(client, token, "Renamed By Admin", email="second@techcorp.com")

    assert response.status_code == 200


async def test_a_rename_decided_on_a_stale_read_is_refused(
    client: AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await created_org(client)
    await seed_documents(store, OLD, 6)
    token = await login(client)
    stale = await OrganizationRepository(store).get_visible(ObjectId(created["id"]))
    assert (await rename(client, token, "Second")).status_code == 200

    async def read_before_the_first_rename(
        self: OrganizationRepository, organization_id: ObjectId
    ) -> Organization | None:
        return stale

    monkeypatch.setattr(OrganizationRepository, "get_visible", read_before_the_first_rename)
    response = await rename(client, token, "Third")

    assert response.status_code == 409
    assert await tenants(store).list_collection_names() == ["tenant_second"]
    assert await tenants(store)["tenant_second"].count_documents({}) == 6
    assert await store.master[IDENTIFIER_CLAIMS].distinct("_id") == ["second"]


async def test_invalid_new_name_is_400(client: AsyncClient) -> None:
    await created_org(client)
    token = await login(client)

    response = await rename(client, token, "@@@")

    assert field_errors(response) == ["organization_name"]


async def test_simultaneous_renames_of_one_organization_stay_consistent(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client)
    ids = await seed_documents(store, OLD, 20)
    token = await login(client)

    responses = await asyncio.gather(*(rename(client, token, f"Target {i}") for i in range(8)))

    assert {r.status_code for r in responses} <= {200, 409}
    assert any(r.status_code == 200 for r in responses)
    organization = await store.master[ORGANIZATIONS].find_one({})
    assert organization is not None
    assert organization["state"] == "active"
    collections = await tenants(store).list_collection_names()
    assert collections == [organization["tenant_collection"]]
    documents = await tenants(store)[collections[0]].find({}).to_list()
    assert sorted(d["_id"] for d in documents) == sorted(ids)
    assert await store.master[IDENTIFIER_CLAIMS].distinct("_id") == [organization["identifier"]]


async def test_a_failed_move_leaves_the_organization_as_it_was(
    client: AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await created_org(client)
    await seed_documents(store, OLD, 4)
    token = await login(client)

    async def refuse(self: TenantCollections, source: str, target: str) -> None:
        raise RuntimeError("server refused")

    monkeypatch.setattr(TenantCollections, "try_rename", refuse)
    response = await rename(client, token, "Elsewhere")

    assert response.status_code == 500
    assert await tenants(store)[OLD].count_documents({}) == 4
    organization = await store.master[ORGANIZATIONS].find_one({})
    assert organization is not None
    assert organization["state"] == "active"
    assert organization["tenant_collection"] == OLD
    assert await store.master[IDENTIFIER_CLAIMS].distinct("_id") == ["tech-innovations-corp"]
    monkeypatch.undo()
    assert (await rename(client, token, "Elsewhere")).status_code == 200


async def test_renaming_onto_a_case_variant_of_another_organization_is_a_conflict(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client, name="Ξ Corp", email="xi@example.com")
    await created_org(client)
    token = await login(client)

    response = await rename(client, token, "ξ Corp")

    assert response.status_code == 409
    organization = await store.master[ORGANIZATIONS].find_one({"name": NAME})
    assert organization is not None
    assert organization["state"] == "active"
    assert OLD in await tenants(store).list_collection_names()
