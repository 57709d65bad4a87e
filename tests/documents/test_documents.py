"""The tenant data plane through HTTP: CRUD, versions, bounds, roles, isolation."""

import json
from typing import Any

import pytest
from httpx import AsyncClient

from app.access.roles import Role
from app.db.store import Store
from tests.support import add_account, bearer, created_org, login, tenants


class Tenant:
    """An organization and a token acting for it, with shortcuts to its documents."""

    def __init__(self, client: AsyncClient, org_id: str, token: str) -> None:
        self.client = client
        self.base = f"/api/v1/organizations/{org_id}/documents"
        self.headers = bearer(token)

    async def post(self, body: Any, path: str = "") -> Any:
        return await self.client.post(self.base + path, json=body, headers=self.headers)

    async def get(self, path: str = "", **params: str) -> Any:
        return await self.client.get(self.base + path, params=params, headers=self.headers)


@pytest.fixture
async def tenant(client: AsyncClient) -> Tenant:
    created = await created_org(client)
    return Tenant(client, created["id"], await login(client))


async def test_create_read_replace_patch_delete(tenant: Tenant) -> None:
    created = await tenant.post({"title": "First", "tags": ["a"], "meta": {"n": 1}})
    assert created.status_code == 201
    doc = created.json()
    assert doc["title"] == "First"
    assert doc["version"] == 1
    assert {"id", "created_at", "updated_at"} <= set(doc)
    assert created.headers["etag"] == '"1"'
    path = f"/{doc['id']}"

    assert (await tenant.get(path)).json() == doc
    replaced = await tenant.client.put(
        tenant.base + path, json={"title": "Second"}, headers=tenant.headers
    )
    assert replaced.json()["version"] == 2
    assert "tags" not in replaced.json()
    assert replaced.json()["created_at"] == doc["created_at"]
    patched = await tenant.client.patch(
        tenant.base + path, json={"meta": {"n": 2, "m": 3}, "title": None}, headers=tenant.headers
    )
    assert patched.json()["meta"] == {"n": 2, "m": 3}
    assert "title" not in patched.json()
    assert patched.json()["version"] == 3
    deleted = await tenant.client.delete(tenant.base + path, headers=tenant.headers)
    assert deleted.status_code == 200
    assert (await tenant.get(path)).status_code == 404


async def test_if_match_guards_against_lost_updates(tenant: Tenant) -> None:
    doc = (await tenant.post({"count": 1})).json()
    path = tenant.base + f"/{doc['id']}"

    first = await tenant.client.put(
        path, json={"count": 2}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    stale = await tenant.client.put(
        path, json={"count": 99}, headers={**tenant.headers, "If-Match": '"1"'}
    )
    stale_delete = await tenant.client.delete(path, headers={**tenant.headers, "If-Match": '"1"'})

    assert first.status_code == 200
    assert stale.status_code == 412
    assert stale_delete.status_code == 412
    assert (await tenant.get(f"/{doc['id']}")).json()["count"] == 2


async def test_batches_listing_filters_and_sorting(tenant: Tenant) -> None:
    batch = await tenant.post(
        {"documents": [{"n": i, "kind": "odd" if i % 2 else "even"} for i in range(7)]}, "/batch"
    )
    assert batch.status_code == 201
    assert len(batch.json()) == 7

    odd = await tenant.get(where=json.dumps({"kind": "odd"}), sort="n", order="desc", limit="2")

    body = odd.json()
    assert body["total"] == 3
    assert [d["n"] for d in body["items"]] == [5, 3]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"$where": "1"}, "$where"),
        ({"a.b": 1}, "a.b"),
        ({"nested": {"$gt": 1}}, "$gt"),
        ({"list": [{"$set": 1}]}, "$set"),
        ({"nul\x00": 1}, "nul\x00"),
        ({"_id": "mine"}, "_id"),
        ({"version": 7}, "version"),
        ({"big": 2**70}, "big"),
    ],
)
async def test_operator_shaped_or_reserved_fields_are_refused(
    tenant: Tenant, store: Store, body: dict[str, Any], field: str
) -> None:
    response = await tenant.post(body)

    assert response.status_code == 400
    assert field in [str(part) for part in response.json()["detail"][0]["loc"]]
    assert await tenants(store)["tenant_tech_innovations_corp"].count_documents({}) == 0


@pytest.mark.parametrize(
    "where", ['{"n": {"$gt": 0}}', '{"$where": "sleep(1)"}', '{"a.b": 1}', "[1]", "nope"]
)
async def test_filters_cannot_inject_operators(tenant: Tenant, where: str) -> None:
    await tenant.post({"n": 1})

    response = await tenant.get(where=where)

    assert response.status_code == 400


async def test_bounds_are_enforced(tenant: Tenant) -> None:
    too_big = await tenant.post({"blob": "x" * 300_000})
    too_deep: Any = {"leaf": 1}
    for _ in range(25):
        too_deep = {"next": too_deep}
    deep = await tenant.post(too_deep)
    batch = await tenant.post({"documents": [{"n": i} for i in range(101)]}, "/batch")
    not_object = await tenant.client.post(tenant.base, json=[1, 2], headers=tenant.headers)

    assert [too_big.status_code, deep.status_code, batch.status_code] == [400, 400, 400]
    assert not_object.status_code == 400


async def test_another_organizations_ids_are_never_found(client: AsyncClient) -> None:
    mine = await created_org(client)
    theirs = await created_org(client, name="Other Corp", email="other@example.com")
    my_tenant = Tenant(client, mine["id"], await login(client))
    their_tenant = Tenant(client, theirs["id"], await login(client, email="other@example.com"))
    secret = (await their_tenant.post({"secret": "theirs"})).json()

    via_my_org = await my_tenant.get(f"/{secret['id']}")
    via_their_path = await client.get(
        f"/api/v1/organizations/{theirs['id']}/documents/{secret['id']}",
        headers=my_tenant.headers,
    )
    listing = await my_tenant.get()

    assert via_my_org.status_code == 404
    assert via_their_path.status_code == 403
    assert listing.json()["total"] == 0


@pytest.mark.parametrize(
    ("role", "can_read", "can_write"),
    [
        (Role.ADMIN, True, True),
        (Role.MEMBER, True, True),
        (Role.VIEWER, True, False),
        (Role.BILLING_ADMIN, False, False),
    ],
)
async def test_roles_table_for_documents(
    client: AsyncClient, store: Store, role: Role, can_read: bool, can_write: bool
) -> None:
    created = await created_org(client)
    owner = Tenant(client, created["id"], await login(client))
    doc = (await owner.post({"n": 1})).json()
    await add_account(store, created["id"], "someone@techcorp.com", role)
    other = Tenant(client, created["id"], await login(client, email="someone@techcorp.com"))

    read = await other.get(f"/{doc['id']}")
    write = await other.post({"n": 2})

    assert read.status_code == (200 if can_read else 403)
    assert write.status_code == (201 if can_write else 403)
    expected = 2 if can_write else 1
    assert await tenants(store)["tenant_tech_innovations_corp"].count_documents({}) == expected


async def test_a_suspended_organization_refuses_writes_but_serves_reads(
    client: AsyncClient, tenant: Tenant
) -> None:
    doc = (await tenant.post({"n": 1})).json()
    org_id = tenant.base.split("/")[4]
    await client.post(f"/api/v1/organizations/{org_id}/suspend", headers=tenant.headers)

    assert (await tenant.post({"n": 2})).status_code == 423
    assert (await tenant.get(f"/{doc['id']}")).status_code == 200


async def test_documents_survive_renames(client: AsyncClient, tenant: Tenant) -> None:
    doc = (await tenant.post({"keep": "me"})).json()
    org_id = tenant.base.split("/")[4]
    await client.post(
        f"/api/v1/organizations/{org_id}/rename",
        json={"organization_name": "Renamed Corp"},
        headers=tenant.headers,
    )

    assert (await tenant.get(f"/{doc['id']}")).json()["keep"] == "me"
