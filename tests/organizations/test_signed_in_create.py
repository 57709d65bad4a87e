"""`POST /api/v1/organizations` (a signed-in account creates another organization) and
`GET /api/v1/organizations?q=` (its organizations filtered by name)."""

from typing import Any

import anyio
from bson import ObjectId
from httpx import AsyncClient, Response

from app.config import Settings
from app.db.store import Store
from tests.support import bearer, create_org, login, tenants

ORGANIZATIONS = "/api/v1/organizations"


async def signed_in(client: AsyncClient) -> dict[str, str]:
    created = await create_org(client)
    assert created.status_code == 201, created.text
    return bearer(await login(client))


async def found(client: AsyncClient, auth: dict[str, str], name: str) -> Response:
    return await client.post(ORGANIZATIONS, json={"organization_name": name}, headers=auth)


async def test_a_signed_in_account_creates_an_organization_it_owns(
    client: AsyncClient, store: Store
) -> None:
    auth = await signed_in(client)
    response = await found(client, auth, "Side Project")

    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["Location"] == f"{ORGANIZATIONS}/{body['id']}"
    assert body["role"] == "owner"
    assert body["tenant_collection"] == "tenant_side_project"
    assert "tenant_side_project" in await tenants(store).list_collection_names()
    new = bearer(body["token"]["access_token"])
    detail = await client.get(f"{ORGANIZATIONS}/{body['id']}", headers=new)
    assert detail.status_code == 200, detail.text
    workspaces = await client.get(f"{ORGANIZATIONS}/{body['id']}/workspaces", headers=new)
    assert [w["is_default"] for w in workspaces.json()["items"]] == [True]
    # The token it was created with still acts for the first organization, which is as it was.
    me = (await client.get("/api/v1/auth/me", headers=auth)).json()
    assert me["organization_id"] != body["id"]
    assert len(me["memberships"]) == 2
    first = await client.get(f"{ORGANIZATIONS}/{me['organization_id']}", headers=auth)
    assert first.json()["statistics"]["members"] == 1


async def test_a_taken_name_is_a_409_and_costs_no_place(client: AsyncClient) -> None:
    auth = await signed_in(client)
    taken = await found(client, auth, "tech innovations CORP")
    assert taken.status_code == 409
    assert taken.json()["code"] == "organization_name_taken"
    invalid = await found(client, auth, "   ")
    assert invalid.status_code == 400


async def test_concurrent_creates_never_pass_the_limit(settings: Settings, store: Store) -> None:
    from asgi_lifespan import LifespanManager
    from httpx import ASGITransport

    from app.factory import create_app
    from tests.conftest import borrowed

    limited = settings.model_copy(update={"max_organizations_per_account": 3})
    app = create_app(limited, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        auth = await signed_in(client)
        answers: list[Response] = []

        async def one(n: int) -> None:
            answers.append(await found(client, auth, f"Project {n}"))

        async with anyio.create_task_group() as group:
            for n in range(10):
                group.start_soon(one, n)

        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201] * 3 + [409] * 7, [a.text for a in answers]
        refused = [a for a in answers if a.status_code == 409]
        assert {a.json()["code"] for a in refused} == {"organization_limit_reached"}
        listed = await client.get(ORGANIZATIONS, headers=auth)
        assert listed.json()["total"] == 4

        # A deleted organization gives its place back once it is no longer under way.
        made = next(a.json() for a in answers if a.status_code == 201)
        owner = bearer(made["token"]["access_token"])
        gone = await client.delete(f"{ORGANIZATIONS}/{made['id']}", headers=owner)
        assert gone.status_code == 200, gone.text
        old = ObjectId.from_datetime(ObjectId().generation_time.replace(year=2020))
        # As if it had been created long ago (the place of a young one may be a create
        # under way, so it is kept for a while).
        account = await store.master["accounts"].find_one(
            {"founded_organizations": ObjectId(made["id"])}
        )
        assert account is not None
        aged = [old if o == ObjectId(made["id"]) else o for o in account["founded_organizations"]]
        await store.master["accounts"].update_one(
            {"_id": account["_id"]}, {"$set": {"founded_organizations": aged}}
        )
        again = await found(client, auth, "Project again")
        assert again.status_code == 201, again.text


async def test_any_role_may_create_and_becomes_owner(client: AsyncClient, store: Store) -> None:
    from app.access.roles import Role
    from tests.support import add_account

    created = await create_org(client)
    await add_account(store, created.json()["id"], "viewer@techcorp.com", Role.VIEWER)
    viewer = bearer(await login(client, "viewer@techcorp.com"))
    response = await found(client, viewer, "Viewer's Own")
    assert response.status_code == 201, response.text
    assert response.json()["token"]["role"] == "owner"
    anonymous = await client.post(ORGANIZATIONS, json={"organization_name": "Nobody"})
    assert anonymous.status_code == 401


async def test_q_filters_by_name_as_plain_text(client: AsyncClient) -> None:
    auth = await signed_in(client)
    for name in ("a.b*c( Labs", "Abxc Labs", "Other Works"):
        assert (await found(client, auth, name)).status_code == 201

    async def names(q: str, **params: Any) -> dict[str, Any]:
        response = await client.get(ORGANIZATIONS, params={"q": q, **params}, headers=auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    assert [o["organization_name"] for o in (await names("A.B*C("))["items"]] == ["a.b*c( Labs"]
    assert [o["organization_name"] for o in (await names("labs"))["items"]] == [
        "a.b*c( Labs",
        "Abxc Labs",
    ]
    assert (await names(".*"))["items"] == []
    first = await names("labs", limit=1)
    assert first["total"] == 2
    second = await names("labs", limit=1, cursor=first["next_cursor"])
    assert [o["organization_name"] for o in second["items"]] == ["Abxc Labs"]
    mismatched = await client.get(
        ORGANIZATIONS, params={"q": "works", "cursor": first["next_cursor"]}, headers=auth
    )
    assert mismatched.status_code == 400
