"""Webhook endpoints through the API: who may manage them, and what they accept."""

import pytest
from httpx import AsyncClient

from app.access.roles import Role
from app.db.store import Store
from tests.support import add_account, bearer, created_org, login

URL = "https://hooks.example.com/tenantry"


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
async def test_owners_and_admins_manage_endpoints_others_are_refused(
    client: AsyncClient, store: Store, role: Role
) -> None:
    org = await created_org(client)
    path = f"/api/v1/organizations/{org['id']}/webhooks"
    owner = bearer(await login(client))
    existing = (await client.post(path, json={"url": URL}, headers=owner)).json()["id"]
    email = f"actor-{role.value}@techcorp.com"
    if role is Role.OWNER:
        caller = owner
    else:
        await add_account(store, org["id"], email, role)
        caller = bearer(await login(client, email))
    allowed = role in (Role.OWNER, Role.ADMIN)
    calls = [
        ("POST", path, {"url": URL}),
        ("GET", path, None),
        ("GET", f"{path}/{existing}", None),
        ("PATCH", f"{path}/{existing}", {"description": "x"}),
        ("POST", f"{path}/{existing}/rotate-secret", {}),
        ("GET", f"{path}/{existing}/attempts", None),
        ("POST", f"{path}/{existing}/test", None),
        ("DELETE", f"{path}/{existing}", None),
    ]
    for method, url, body in calls:
        response = await client.request(method, url, json=body, headers=caller)
        if allowed:
            assert response.status_code < 300, (method, url, response.text)
        else:
            assert response.status_code == 403, (method, url, response.text)


async def test_an_endpoint_is_created_read_changed_and_deleted(client: AsyncClient) -> None:
    org = await created_org(client)
    path = f"/api/v1/organizations/{org['id']}/webhooks"
    owner = bearer(await login(client))
    created = await client.post(
        path,
        json={"url": URL, "types": ["organization.*", "member.added"], "description": "sync"},
        headers=owner,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"].endswith(f"/webhooks/{body['id']}")
    assert body["secret"].startswith("whsec_")
    assert body["types"] == ["organization.*", "member.added"]
    assert body["enabled"] is True
    listed = (await client.get(path, headers=owner)).json()
    assert [e["id"] for e in listed["items"]] == [body["id"]]
    assert "secret" not in listed["items"][0]
    changed = await client.patch(
        f"{path}/{body['id']}", json={"enabled": False, "types": ["*"]}, headers=owner
    )
    assert changed.json()["enabled"] is False
    assert changed.json()["types"] == ["*"]
    rotated = await client.post(f"{path}/{body['id']}/rotate-secret", json={}, headers=owner)
    assert rotated.json()["secret"] != body["secret"]
    secrets = (await client.get(f"{path}/{body['id']}", headers=owner)).json()["secrets"]
    assert len(secrets) == 2
    assert secrets[0]["expires_at"] is None
    assert secrets[1]["expires_at"] == rotated.json()["previous_expires_at"]
    assert (await client.delete(f"{path}/{body['id']}", headers=owner)).status_code == 200
    assert (await client.get(f"{path}/{body['id']}", headers=owner)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"url": URL, "types": []},
        {"url": URL, "types": ["nothing.here"]},
        {"url": URL, "types": ["member.*", "organization.created.*"]},
        {"url": URL, "colour": "red"},
        {"types": ["*"]},
    ],
)
async def test_a_bad_endpoint_is_a_400(client: AsyncClient, body: dict[str, object]) -> None:
    org = await created_org(client)
    response = await client.post(
        f"/api/v1/organizations/{org['id']}/webhooks",
        json=body,
        headers=bearer(await login(client)),
    )
    assert response.status_code == 400, response.text


async def test_another_organizations_endpoint_is_not_found(client: AsyncClient) -> None:
    mine = await created_org(client)
    await created_org(client, "Other Corp", "other@techcorp.com")
    other = bearer(await login(client, "other@techcorp.com"))
    theirs = await client.get("/org/get", params={"organization_name": "Other Corp"})
    path = f"/api/v1/organizations/{theirs.json()['id']}/webhooks"
    endpoint = (await client.post(path, json={"url": URL}, headers=other)).json()["id"]
    owner = bearer(await login(client))
    response = await client.get(
        f"/api/v1/organizations/{mine['id']}/webhooks/{endpoint}", headers=owner
    )
    assert response.status_code == 404
