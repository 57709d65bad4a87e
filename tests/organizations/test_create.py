import asyncio
from typing import Any

import bcrypt
import pytest
from httpx import AsyncClient

from app.db.schema import ACCOUNTS, IDENTIFIER_CLAIMS, MEMBERSHIPS, ORGANIZATIONS
from app.db.store import Store
from app.registry.tenants import TenantCollections
from tests.support import EMAIL, NAME, PASSWORD, create_org, created_org, field_errors, tenants


async def test_create_answers_the_contract_shape(client: AsyncClient) -> None:
    response = await create_org(client)

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {
        "id",
        "organization_name",
        "organization_identifier",
        "tenant_collection",
        "admin_email",
    }
    assert len(body["id"]) == 24
    int(body["id"], 16)
    assert body["organization_name"] == NAME
    assert body["organization_identifier"] == "tech-innovations-corp"
    assert body["tenant_collection"] == "tenant_tech_innovations_corp"
    assert body["admin_email"] == EMAIL


async def test_create_makes_the_tenant_collection_exist(client: AsyncClient, store: Store) -> None:
    body = await created_org(client)

    assert await tenants(store).list_collection_names() == [body["tenant_collection"]]
    assert await tenants(store)[body["tenant_collection"]].count_documents({}) == 0


async def test_create_stores_registry_and_owner_without_plain_secrets(
    client: AsyncClient, store: Store
) -> None:
    body = await created_org(client)

    organization = await store.master[ORGANIZATIONS].find_one({})
    account = await store.master[ACCOUNTS].find_one({})
    assert organization is not None
    assert account is not None
    assert str(organization["_id"]) == body["id"]
    assert organization["name"] == NAME
    assert organization["identifier"] == "tech-innovations-corp"
    assert organization["tenant_collection"] == "tenant_tech_innovations_corp"
    assert organization["admin_id"] == account["_id"]
    assert organization["state"] == "active"
    assert {"created_at", "modified_at"} <= set(organization)
    assert account["email"] == EMAIL
    assert account["organization_id"] == organization["_id"]
    membership = await store.master[MEMBERSHIPS].find_one({})
    assert membership is not None
    assert membership["account_id"] == account["_id"]
    assert membership["organization_id"] == organization["_id"]
    assert membership["role"] == "owner"
    assert organization["owner_count"] == 1
    assert "created_at" in account
    assert "password" not in account
    assert account["password_hash"] != PASSWORD
    assert bcrypt.checkpw(PASSWORD.encode(), account["password_hash"].encode())


@pytest.mark.parametrize(
    "variant",
    [
        "Tech Innovations Corp",
        "tech innovations corp",
        "  TECH   Innovations corp ",
        "Tech-Innovations, Corp.",
    ],
)
async def test_a_name_whose_slug_is_taken_is_a_conflict(
    client: AsyncClient, store: Store, variant: str
) -> None:
    await created_org(client)

    response = await create_org(client, name=variant, email="other@example.com")

    assert response.status_code == 409
    assert response.json() == {"detail": "An organization with this name already exists"}
    assert await store.master[ORGANIZATIONS].count_documents({}) == 1
    assert await store.master[ACCOUNTS].count_documents({}) == 1
    assert len(await tenants(store).list_collection_names()) == 1


async def test_an_existing_account_with_its_password_becomes_owner_of_another_organization(
    client: AsyncClient, store: Store
) -> None:
    first = await created_org(client)

    second = await created_org(client, name="Another Org", email="ADMIN@techcorp.com")

    assert second["admin_email"] == EMAIL
    assert await store.master[ACCOUNTS].count_documents({}) == 1
    roles = await store.master[MEMBERSHIPS].find({}).to_list()
    assert sorted(str(m["organization_id"]) for m in roles) == sorted([first["id"], second["id"]])
    assert {m["role"] for m in roles} == {"owner"}


async def test_an_existing_email_with_a_wrong_password_is_a_conflict(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client)

    response = await create_org(client, name="Another Org", password="NotThePassword1")

    assert response.status_code == 409
    assert "password" in response.json()["detail"]
    assert await store.master[ORGANIZATIONS].count_documents({}) == 1
    assert await store.master[IDENTIFIER_CLAIMS].count_documents({}) == 1
    assert len(await tenants(store).list_collection_names()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": EMAIL, "password": PASSWORD}, "organization_name"),
        ({"organization_name": NAME, "password": PASSWORD}, "email"),
        ({"organization_name": NAME, "email": EMAIL}, "password"),
        ({"organization_name": "", "email": EMAIL, "password": PASSWORD}, "organization_name"),
        ({"organization_name": "   ", "email": EMAIL, "password": PASSWORD}, "organization_name"),
        (
            {"organization_name": "!!! ---", "email": EMAIL, "password": PASSWORD},
            "organization_name",
        ),
        ({"organization_name": 42, "email": EMAIL, "password": PASSWORD}, "organization_name"),
        (
            {"organization_name": "x" * 101, "email": EMAIL, "password": PASSWORD},
            "organization_name",
        ),
        (
            {"organization_name": "Bad\x00Name", "email": EMAIL, "password": PASSWORD},
            "organization_name",
        ),
        (
            {"organization_name": "Tab\x07Bell", "email": EMAIL, "password": PASSWORD},
            "organization_name",
        ),
        ({"organization_name": NAME, "email": "not-an-email", "password": PASSWORD}, "email"),
        ({"organization_name": NAME, "email": EMAIL, "password": "short"}, "password"),
        ({"organization_name": NAME, "email": EMAIL, "password": "é" * 37}, "password"),
        ({"organization_name": NAME, "email": EMAIL, "password": None}, "password"),
    ],
)
async def test_invalid_input_is_a_400_naming_the_field(
    client: AsyncClient, store: Store, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/org/create", json=body)

    assert field_errors(response) == [field]
    assert await store.master[ORGANIZATIONS].count_documents({}) == 0
    assert await tenants(store).list_collection_names() == []


async def test_validation_errors_never_echo_the_submitted_password(client: AsyncClient) -> None:
    secret = "hunter2"
    response = await create_org(client, password=secret)

    assert response.status_code == 400
    assert secret not in response.text


async def test_malformed_json_is_a_400(client: AsyncClient) -> None:
    response = await client.post(
        "/org/create",
        content=b'{"organization_name": ',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    assert isinstance(response.json()["detail"], list)


async def test_a_72_byte_password_is_accepted(client: AsyncClient) -> None:
    response = await create_org(client, password="é" * 36)

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("name", "identifier", "collection"),
    [
        ("Crème Brûlée GmbH", "creme-brulee-gmbh", "tenant_creme_brulee_gmbh"),
        ("O'Reilly & Sons, Ltd.", "o-reilly-sons-ltd", "tenant_o_reilly_sons_ltd"),
        ("  --Acme--  ", "acme", "tenant_acme"),
        ("北京 Tech", "bei-jing-tech", "tenant_bei_jing_tech"),
        ("system.users", "system-users", "tenant_system_users"),
        ("$where", "where", "tenant_where"),
    ],
)
async def test_names_are_slugged_into_safe_identifiers(
    client: AsyncClient, store: Store, name: str, identifier: str, collection: str
) -> None:
    body = await created_org(client, name=name)

    assert body["organization_identifier"] == identifier
    assert body["tenant_collection"] == collection
    assert await tenants(store).list_collection_names() == [collection]


async def test_a_name_at_the_length_limit_fits_mongodb(client: AsyncClient) -> None:
    name = "Ü" * 100

    body = await created_org(client, name=name)

    assert body["organization_identifier"] == "u" * 100


async def test_a_name_that_transliterates_too_long_is_refused(client: AsyncClient) -> None:
    response = await create_org(client, name="北" * 100)

    assert field_errors(response) == ["organization_name"]
    assert "too long" in response.json()["detail"][0]["msg"]


async def test_simultaneous_creates_of_one_name_make_exactly_one(
    client: AsyncClient, store: Store
) -> None:
    variants = ["Race Corp", "race corp", "RACE-CORP", "Race, Corp"]
    responses = await asyncio.gather(
        *(
            create_org(client, name=variants[i % len(variants)], email=f"racer{i}@example.com")
            for i in range(20)
        )
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 19
    assert await store.master[ORGANIZATIONS].count_documents({}) == 1
    assert await store.master[ACCOUNTS].count_documents({}) == 1
    assert await store.master[IDENTIFIER_CLAIMS].count_documents({}) == 1
    assert await tenants(store).list_collection_names() == ["tenant_race_corp"]


async def test_simultaneous_sign_ups_with_one_new_email_make_one_account(
    client: AsyncClient, store: Store
) -> None:
    responses = await asyncio.gather(
        *(create_org(client, name=f"Org {i}", email="same@example.com") for i in range(10))
    )

    created = [r for r in responses if r.status_code == 201]
    assert created
    assert all(r.status_code == 409 for r in responses if r.status_code != 201)
    assert await store.master[ACCOUNTS].count_documents({}) == 1
    assert await store.master[ORGANIZATIONS].count_documents({}) == len(created)
    assert await store.master[MEMBERSHIPS].count_documents({}) == len(created)
    assert len(await tenants(store).list_collection_names()) == len(created)


async def test_a_failed_step_undoes_the_earlier_ones(
    client: AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(self: TenantCollections, name: str) -> bool:
        raise RuntimeError("disk full")

    monkeypatch.setattr(TenantCollections, "create", refuse)

    response = await create_org(client)

    assert response.status_code == 500
    assert response.json()["detail"] == "Internal server error"
    assert "disk full" not in response.text
    assert await store.master[ORGANIZATIONS].count_documents({}) == 0
    assert await store.master[ACCOUNTS].count_documents({}) == 0
    assert await store.master[IDENTIFIER_CLAIMS].count_documents({}) == 0
    monkeypatch.undo()
    assert (await create_org(client)).status_code == 201


async def test_an_empty_leftover_collection_is_adopted(client: AsyncClient, store: Store) -> None:
    await tenants(store).create_collection("tenant_tech_innovations_corp")

    assert (await create_org(client)).status_code == 201


async def test_a_leftover_collection_holding_data_is_never_shared(
    client: AsyncClient, store: Store
) -> None:
    await tenants(store)["tenant_tech_innovations_corp"].insert_one({"stray": True})

    response = await create_org(client)

    assert response.status_code == 409
    assert "operator" in response.json()["detail"]
    assert await tenants(store)["tenant_tech_innovations_corp"].count_documents({}) == 1
    assert await store.master[ORGANIZATIONS].count_documents({}) == 0
    assert await store.master[IDENTIFIER_CLAIMS].count_documents({}) == 0


@pytest.mark.parametrize(("first", "second"), [("Ξ Corp", "ξ Corp"), ("STRASSE", "straße")])
async def test_names_equal_but_for_case_share_one_identifier(
    client: AsyncClient, first: str, second: str
) -> None:
    created = await created_org(client, name=first)

    response = await create_org(client, name=second, email="second@example.com")

    assert response.status_code == 409
    assert created["organization_identifier"] == created["organization_identifier"].lower()


async def test_a_lone_surrogate_is_a_400(client: AsyncClient) -> None:
    body = b'{"organization_name": "Bad \\ud800 Name", "email": "a@b.co", "password": "12345678"}'

    response = await client.post(
        "/org/create", content=body, headers={"content-type": "application/json"}
    )

    assert field_errors(response) == ["organization_name"]
