"""Organization API keys through the HTTP API: created once, used as bearer credentials
wherever their role allows, refused on account routes, revoked and expired at once."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from fastapi import FastAPI
from httpx import AsyncClient

from app.access.roles import Role
from app.apikeys import service
from app.config import Settings
from app.db.schema import API_KEYS
from app.db.store import Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.support import add_account, bearer, created_org, login


@pytest.fixture
def app(settings: Settings, store: Store) -> FastAPI:
    limited = settings.model_copy(update={"api_key_requests_per_minute": 20})
    return create_app(limited, store_opener=lambda _: borrowed(store))


class Org:
    def __init__(self, client: AsyncClient, token: str, organization_id: str) -> None:
        self.client = client
        self.owner = bearer(token)
        self.id = organization_id

    def path(self, suffix: str = "") -> str:
        return f"/api/v1/organizations/{self.id}{suffix}"

    async def key(self, role: str = "member", **more: Any) -> dict[str, Any]:
        response = await self.client.post(
            self.path("/api-keys"), headers=self.owner, json={"name": "ci", "role": role, **more}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def org(client: AsyncClient) -> Org:
    created = await created_org(client)
    return Org(client, await login(client), created["id"])


async def test_a_key_is_shown_once_and_listed_by_its_prefix(org: Org) -> None:
    created = await org.key("admin")

    listed = (await org.client.get(org.path("/api-keys"), headers=org.owner)).json()
    one = (await org.client.get(org.path(f"/api-keys/{created['id']}"), headers=org.owner)).json()

    assert created["secret"].startswith(created["prefix"])
    assert created["prefix"] == f"tko_{created['id']}"
    assert [item["prefix"] for item in listed["items"]] == [created["prefix"]]
    for shown in (listed["items"][0], one):
        assert "secret" not in shown
        assert created["secret"] not in str(shown)
        assert shown["role"] == "admin"
        assert shown["last_used_at"] is None


async def test_only_a_keyed_hash_of_the_secret_is_stored(org: Org, store: Store) -> None:
    created = await org.key()

    [stored] = await store.master[API_KEYS].find({}).to_list()

    assert created["secret"] not in str(stored)
    assert len(stored["digest"]) == 64


async def test_a_key_reads_and_writes_tenant_documents(org: Org) -> None:
    key = bearer((await org.key("member"))["secret"])

    stored = await org.client.post(org.path("/documents"), headers=key, json={"n": 1})
    read = await org.client.get(org.path(f"/documents/{stored.json()['id']}"), headers=key)
    by_owner = await org.client.get(org.path("/documents"), headers=org.owner)

    assert stored.status_code == 201, stored.text
    assert read.json()["n"] == 1
    assert [item["id"] for item in by_owner.json()["items"]] == [stored.json()["id"]]


async def test_a_viewer_key_reads_but_does_not_write(org: Org) -> None:
    key = bearer((await org.key("viewer"))["secret"])

    wrote = await org.client.post(org.path("/documents"), headers=key, json={"n": 1})
    listed = await org.client.get(org.path("/documents"), headers=key)

    assert wrote.status_code == 403
    assert listed.status_code == 200


async def test_what_a_key_does_is_audited_with_the_key_as_actor(org: Org) -> None:
    created = await org.key("admin")

    invited = await org.client.post(
        org.path("/invitations"),
        headers=bearer(created["secret"]),
        json={"email": "new@example.com", "role": "member"},
    )
    log = (await org.client.get(org.path("/audit-log"), headers=org.owner)).json()["items"]

    assert invited.status_code == 201, invited.text
    [entry] = [item for item in log if item["action"] == "invitation.create"]
    assert entry["actor_key"] == created["prefix"]
    assert entry["actor_id"] == created["id"]
    assert any(item["action"] == "api_key.create" for item in log)


async def test_a_revoked_key_fails_on_its_next_request(org: Org) -> None:
    created = await org.key()
    key = bearer(created["secret"])
    assert (await org.client.get(org.path("/documents"), headers=key)).status_code == 200

    revoked = await org.client.delete(org.path(f"/api-keys/{created['id']}"), headers=org.owner)
    again = await org.client.delete(org.path(f"/api-keys/{created['id']}"), headers=org.owner)
    after = await org.client.get(org.path("/documents"), headers=key)

    assert revoked.status_code == 200
    assert again.status_code == 404
    assert after.status_code == 401


async def test_an_expired_key_fails(org: Org, store: Store) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    created = await org.key(expires_at=soon)
    key = bearer(created["secret"])
    assert (await org.client.get(org.path("/documents"), headers=key)).status_code == 200

    # As if the hour had passed.
    await store.master[API_KEYS].update_one(
        {"_id": ObjectId(created["id"])},
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
    )

    assert (await org.client.get(org.path("/documents"), headers=key)).status_code == 401


async def test_an_expiry_in_the_past_is_refused(org: Org) -> None:
    response = await org.client.post(
        org.path("/api-keys"),
        headers=org.owner,
        json={"name": "old", "role": "member", "expires_at": "2020-01-01T00:00:00Z"},
    )

    assert response.status_code == 400


async def test_a_key_is_never_above_its_creator(org: Org, store: Store) -> None:
    await add_account(store, org.id, "admin@example.com", Role.ADMIN)
    await add_account(store, org.id, "member@example.com", Role.MEMBER)
    admin = bearer(await login(org.client, "admin@example.com"))
    member = bearer(await login(org.client, "member@example.com"))

    async def create(headers: dict[str, str], role: str) -> int:
        response = await org.client.post(
            org.path("/api-keys"), headers=headers, json={"name": "k", "role": role}
        )
        return response.status_code

    assert await create(admin, "owner") == 403
    assert await create(admin, "admin") == 403
    assert await create(admin, "member") == 201
    assert await create(member, "viewer") == 403
    assert await create(org.owner, "owner") == 201


async def test_a_key_is_refused_on_account_routes(org: Org) -> None:
    key = bearer((await org.key("admin"))["secret"])

    for method, path, body in [
        ("GET", "/api/v1/auth/me", None),
        ("POST", "/api/v1/auth/switch", {"organization_id": org.id}),
        ("POST", "/admin/logout", None),
        ("GET", "/api/v1/organizations", None),
    ]:
        response = await org.client.request(method, path, headers=key, json=body)
        assert response.status_code == 403, (path, response.text)
        if path.startswith("/api/v1"):  # the contract's errors carry no code
            assert response.json()["code"] == "api_key_not_allowed"


async def test_a_key_acts_for_its_organization_only(org: Org, client: AsyncClient) -> None:
    key = bearer((await org.key("admin"))["secret"])
    other = await created_org(client, "Other Corp", "other@example.com")
    other_documents = f"/api/v1/organizations/{other['id']}/documents"

    assert (await client.get(other_documents, headers=key)).status_code == 403
    assert (await client.post(other_documents, headers=key, json={"n": 1})).status_code == 403


async def test_malformed_and_platform_shaped_keys_are_refused(org: Org) -> None:
    secret = (await org.key())["secret"]
    for wrong in (
        secret[:-1],
        secret[:-1] + ("A" if secret[-1] != "A" else "B"),
        "tkp_" + secret[4:],
    ):
        response = await org.client.get(org.path("/documents"), headers=bearer(wrong))
        assert response.status_code == 401, wrong


async def test_use_is_recorded_at_most_once_a_minute(org: Org, store: Store) -> None:
    created = await org.key()
    key = bearer(created["secret"])

    async def last_used() -> object:
        stored = await store.master[API_KEYS].find_one({})
        assert stored is not None
        return stored["last_used_at"]

    await org.client.get(org.path("/documents"), headers=key)
    first = await last_used()
    await org.client.get(org.path("/documents"), headers=key)
    second = await last_used()
    shown = await org.client.get(org.path(f"/api-keys/{created['id']}"), headers=org.owner)

    assert first is not None
    assert second == first
    assert shown.json()["last_used_at"] is not None


async def test_a_key_over_its_rate_is_told_when_to_come_back(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = bearer((await org.key())["secret"])
    monkeypatch.setattr(service, "seconds_now", lambda: 6000.5)  # all in one minute

    answers = [await org.client.get(org.path("/documents"), headers=key) for _ in range(21)]

    assert [a.status_code for a in answers[:20]] == [200] * 20
    assert answers[20].status_code == 429
    assert answers[20].json()["code"] == "api_key_rate_limited"
    assert answers[20].headers["retry-after"] == "60"


async def test_a_suspended_organizations_keys_read_but_do_not_write(org: Org) -> None:
    key = bearer((await org.key("admin"))["secret"])
    suspended = await org.client.post(org.path("/suspend"), headers=org.owner)
    assert suspended.status_code == 200, suspended.text

    assert (await org.client.get(org.path("/documents"), headers=key)).status_code == 200
    wrote = await org.client.post(org.path("/documents"), headers=key, json={"n": 1})
    assert wrote.status_code == 423


async def test_a_deleted_organizations_keys_stop_working_and_go(org: Org, store: Store) -> None:
    key = bearer((await org.key("admin"))["secret"])
    deleted = await org.client.request(
        "DELETE",
        "/org/delete",
        headers=org.owner,
        json={"organization_name": "Tech Innovations Corp"},
    )
    assert deleted.status_code == 200, deleted.text

    assert (await org.client.get(org.path("/documents"), headers=key)).status_code == 401
    assert await store.master[API_KEYS].count_documents({}) == 0
