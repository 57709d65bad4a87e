import pytest
from httpx import AsyncClient

from app.access.roles import Role
from app.db.schema import ACCOUNTS, IDENTIFIER_CLAIMS, ORGANIZATIONS
from app.db.store import Store
from tests.support import NAME, add_account, bearer, created_org, delete, login, rename, tenants


async def test_delete_removes_registry_accounts_claim_and_collection(
    client: AsyncClient, store: Store
) -> None:
    created = await created_org(client)
    await add_account(store, created["id"], "member@techcorp.com", Role.MEMBER)
    await created_org(client, name="Bystander", email="bystander@example.com")
    await tenants(store)[created["tenant_collection"]].insert_many([{"n": i} for i in range(5)])
    token = await login(client)

    response = await delete(client, token)

    assert response.status_code == 200
    assert response.json() == {"message": "Organization and all associated data have been deleted"}
    assert await tenants(store).list_collection_names() == ["tenant_bystander"]
    assert await store.master[ORGANIZATIONS].distinct("name") == ["Bystander"]
    assert await store.master[ACCOUNTS].distinct("email") == ["bystander@example.com"]
    assert await store.master[IDENTIFIER_CLAIMS].distinct("_id") == ["bystander"]
    found = await client.get("/org/get", params={"organization_name": NAME})
    assert found.status_code == 404


async def test_the_name_may_be_given_in_any_case(client: AsyncClient) -> None:
    await created_org(client)
    token = await login(client)

    response = await delete(client, token, name="  tech INNOVATIONS corp")

    assert response.status_code == 200


async def test_tokens_of_a_deleted_organization_are_rejected(client: AsyncClient) -> None:
    await created_org(client)
    token = await login(client)
    assert (await delete(client, token)).status_code == 200

    response = await rename(client, token, "Back From The Dead")

    assert response.status_code == 401


async def test_an_old_token_never_reaches_a_new_organization_of_the_same_name(
    client: AsyncClient,
) -> None:
    await created_org(client)
    old_token = await login(client)
    assert (await delete(client, old_token)).status_code == 200
    await created_org(client)

    attempts = [
        await delete(client, old_token),
        await rename(client, old_token, "Taken Over"),
    ]

    assert [r.status_code for r in attempts] == [401, 401]
    assert (await client.get("/org/get", params={"organization_name": NAME})).status_code == 200


async def test_deleting_another_organization_is_403(client: AsyncClient, store: Store) -> None:
    await created_org(client)
    await created_org(client, name="Victim Corp", email="victim@example.com")
    token = await login(client)

    response = await delete(client, token, name="Victim Corp")

    assert response.status_code == 403
    assert "tenant_victim_corp" in await tenants(store).list_collection_names()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER, Role.VIEWER])
async def test_only_an_owner_may_delete(client: AsyncClient, store: Store, role: Role) -> None:
    created = await created_org(client)
    await add_account(store, created["id"], "someone@techcorp.com", role)
    token = await login(client, email="someone@techcorp.com")

    response = await delete(client, token)

    assert response.status_code == 403
    assert await store.master[ORGANIZATIONS].count_documents({}) == 1


async def test_an_unknown_organization_is_404(client: AsyncClient) -> None:
    await created_org(client)
    token = await login(client)

    response = await delete(client, token, name="No Such Org")

    assert response.status_code == 404


async def test_without_a_token_delete_is_401(client: AsyncClient, store: Store) -> None:
    await created_org(client)

    response = await client.request("DELETE", "/org/delete", json={"organization_name": NAME})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert await store.master[ORGANIZATIONS].count_documents({}) == 1


@pytest.mark.parametrize("body", [{}, {"organization_name": ""}, {"organization_name": ["x"]}])
async def test_a_bad_body_is_400(client: AsyncClient, body: dict[str, object]) -> None:
    await created_org(client)
    token = await login(client)

    response = await client.request("DELETE", "/org/delete", json=body, headers=bearer(token))

    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["body", "organization_name"]
