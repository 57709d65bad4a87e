"""Who may call `/api/v1/admin`: platform keys only, with the scope each call needs."""

from datetime import UTC, datetime, timedelta

from bson import ObjectId
from httpx import AsyncClient

from app.config import Settings
from app.db.schema import PLATFORM_KEYS
from app.db.store import Store
from app.operations.platform_keys import revoke_platform_key
from tests.support import bearer, created_org, login

ADMIN = "/api/v1/admin"


def reads(org: str, account: str) -> list[str]:
    return [
        f"{ADMIN}/organizations",
        f"{ADMIN}/organizations/{org}",
        f"{ADMIN}/accounts/{account}",
        f"{ADMIN}/accounts/{account}/organizations",
        f"{ADMIN}/accounts/lookup?email=admin@techcorp.com",
    ]


def changes(org: str) -> list[tuple[str, str, dict[str, object] | None]]:
    return [
        ("POST", f"{ADMIN}/organizations", {"organization_name": "X", "owner_email": "a@b.io"}),
        ("POST", f"{ADMIN}/organizations/{org}/members", {"email": "a@b.io"}),
        ("PUT", f"{ADMIN}/organizations/{org}/plan", {"plan": "pro"}),
        ("POST", f"{ADMIN}/organizations/{org}/suspend", None),
        ("POST", f"{ADMIN}/organizations/{org}/reactivate", None),
        ("DELETE", f"{ADMIN}/organizations/{org}", None),
        ("DELETE", f"{ADMIN}/organizations/{org}?purge=true", None),
        ("POST", f"{ADMIN}/organizations/{org}/restore", None),
    ]


async def test_every_read_takes_a_read_key(client: AsyncClient, reader: dict[str, str]) -> None:
    created = await created_org(client)
    admin = await client.get(f"{ADMIN}/accounts/lookup?email=admin@techcorp.com", headers=reader)
    for path in reads(created["id"], admin.json()["id"]):
        response = await client.get(path, headers=reader)
        assert response.status_code == 200, (path, response.text)
        assert "etag" in response.headers


async def test_a_read_key_is_refused_every_change(
    client: AsyncClient, reader: dict[str, str]
) -> None:
    created = await created_org(client)
    for method, path, body in changes(created["id"]):
        response = await client.request(method, path, json=body, headers=reader)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "platform_scope_missing"
    still = await client.get(f"{ADMIN}/organizations/{created['id']}", headers=reader)
    assert still.json()["status"] == "active"


async def test_no_key_and_bad_keys_are_refused(client: AsyncClient, writer: dict[str, str]) -> None:
    created = await created_org(client)
    secret = writer["Authorization"].removeprefix("Bearer ")
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    unknown = f"tkp_{ObjectId()}{secret[-43:]}"
    for headers in (
        {},
        bearer("not-a-key"),
        bearer(tampered),
        bearer(unknown),
        {"Authorization": f"Basic {secret}"},
    ):
        for path in reads(created["id"], created["id"])[:2]:
            response = await client.get(path, headers=headers)
            assert response.status_code == 401, (headers, response.text)
            assert response.json()["code"] == "platform_key_invalid"
            assert response.headers["www-authenticate"] == "Bearer"


async def test_an_organization_token_is_refused_on_the_admin_api(client: AsyncClient) -> None:
    created = await created_org(client)
    token = bearer(await login(client))
    response = await client.get(f"{ADMIN}/organizations", headers=token)
    assert response.status_code == 401
    assert response.json()["code"] == "platform_key_invalid"
    suspend = await client.post(f"{ADMIN}/organizations/{created['id']}/suspend", headers=token)
    assert suspend.status_code == 401


async def test_an_organization_key_shape_is_refused_on_the_admin_api(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    # Same shape and id as a platform key, but an organization key's kind.
    secret = writer["Authorization"].removeprefix("Bearer tkp_")
    response = await client.get(f"{ADMIN}/organizations", headers=bearer(f"tko_{secret}"))
    assert response.status_code == 401


async def test_a_platform_key_is_refused_on_the_organization_api(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    created = await created_org(client)
    for path in (
        "/api/v1/organizations",
        f"/api/v1/organizations/{created['id']}",
        f"/api/v1/organizations/{created['id']}/members",
        "/api/v1/auth/me",
    ):
        response = await client.get(path, headers=writer)
        assert response.status_code == 401, (path, response.text)
    renamed = await client.put(
        "/org/update",
        json={"organization_name": "Other", "email": "a@b.io", "password": "Whatever-123"},
        headers=writer,
    )
    assert renamed.status_code == 401


async def test_a_revoked_key_is_refused_from_its_next_request(
    client: AsyncClient, store: Store, settings: Settings, writer: dict[str, str]
) -> None:
    assert (await client.get(f"{ADMIN}/organizations", headers=writer)).status_code == 200
    prefix = writer["Authorization"].removeprefix("Bearer ")[:28]
    _, revoked = await revoke_platform_key(store, settings, prefix, "ops")
    assert revoked
    response = await client.get(f"{ADMIN}/organizations", headers=writer)
    assert response.status_code == 401
    assert response.json()["code"] == "platform_key_invalid"


async def test_last_use_is_written_at_most_once_a_minute(
    client: AsyncClient, store: Store, reader: dict[str, str]
) -> None:
    key_id = ObjectId(reader["Authorization"].removeprefix("Bearer tkp_")[:24])
    keys = store.master[PLATFORM_KEYS]
    assert (await keys.find_one({"_id": key_id}) or {})["last_used_at"] is None
    await client.get(f"{ADMIN}/organizations", headers=reader)
    first = (await keys.find_one({"_id": key_id}) or {})["last_used_at"]
    assert first is not None
    await client.get(f"{ADMIN}/organizations", headers=reader)
    assert (await keys.find_one({"_id": key_id}) or {})["last_used_at"] == first
    earlier = datetime.now(UTC) - timedelta(minutes=2)
    await keys.update_one({"_id": key_id}, {"$set": {"last_used_at": earlier}})
    await client.get(f"{ADMIN}/organizations", headers=reader)
    latest = (await keys.find_one({"_id": key_id}) or {})["last_used_at"]
    assert latest.replace(tzinfo=UTC) > earlier


async def test_the_admin_api_has_its_own_tag_and_security(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "Platform administration" in [tag["name"] for tag in document["tags"]]
    operations = [
        operation
        for path, item in document["paths"].items()
        if path.startswith(ADMIN)
        for operation in item.values()
    ]
    assert len(operations) == 12
    for operation in operations:
        assert operation["tags"] == ["Platform administration"]
        assert operation["security"] == [{"PlatformKey": []}]


async def test_the_stored_secret_is_only_a_hash(store: Store, writer: dict[str, str]) -> None:
    secret = writer["Authorization"].removeprefix("Bearer ")
    stored = await store.master[PLATFORM_KEYS].find_one({})
    assert stored is not None
    assert secret not in str(stored)
    assert secret[-43:] not in str(stored)
