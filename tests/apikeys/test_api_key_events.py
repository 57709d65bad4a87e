"""Creating and revoking API keys are events: the key as the API lists it, never its secret
or the hash kept of it, by whoever did it (a signed-in account, or another key)."""

import json

from httpx import AsyncClient

from app.db.schema import API_KEYS
from app.db.store import Store
from tests.events.feed import all_events
from tests.support import EMAIL, bearer, created_org, login


async def test_creating_and_revoking_a_key_are_events_by_the_account(
    client: AsyncClient, store: Store
) -> None:
    org = await created_org(client)
    token = await login(client)
    path = f"/api/v1/organizations/{org['id']}/api-keys"
    created = await client.post(path, headers=bearer(token), json={"name": "ci", "role": "member"})
    assert created.status_code == 201, created.text
    key = created.json()
    revoked = await client.delete(f"{path}/{key['id']}", headers=bearer(token))
    assert revoked.status_code == 200, revoked.text
    listed = (await client.get(f"{path}/{key['id']}", headers=bearer(token))).json()

    events = [e for e in await all_events(client, org["id"], token) if e["type"].startswith("api")]

    assert [e["type"] for e in events] == ["api_key.created", "api_key.revoked"]
    assert all(e["actor"]["kind"] == "account" for e in events)
    assert all(e["actor"]["email"] == EMAIL for e in events)
    public = {name: value for name, value in key.items() if name not in {"secret", "last_used_at"}}
    assert events[0]["data"] == public
    assert events[1]["data"]["prefix"] == key["prefix"]
    assert events[1]["data"]["revoked_at"] == listed["revoked_at"] is not None
    stored = await store.master[API_KEYS].find_one({})
    assert stored is not None
    for event in events:
        text = json.dumps(event)
        assert key["secret"] not in text
        assert stored["digest"] not in text


async def test_a_key_that_makes_a_key_is_the_actor(client: AsyncClient) -> None:
    org = await created_org(client)
    token = await login(client)
    path = f"/api/v1/organizations/{org['id']}/api-keys"
    admin = (
        await client.post(path, headers=bearer(token), json={"name": "ops", "role": "admin"})
    ).json()
    made = await client.post(
        path, headers=bearer(admin["secret"]), json={"name": "ci", "role": "member"}
    )
    assert made.status_code == 201, made.text
    revoked = await client.delete(f"{path}/{made.json()['id']}", headers=bearer(admin["secret"]))
    assert revoked.status_code == 200, revoked.text

    events = [e for e in await all_events(client, org["id"], token) if e["type"].startswith("api")]

    assert [(e["type"], e["actor"]) for e in events] == [
        ("api_key.created", {"kind": "account", "id": events[0]["actor"]["id"], "email": EMAIL}),
        ("api_key.created", {"kind": "api_key", "id": admin["prefix"], "email": None}),
        ("api_key.revoked", {"kind": "api_key", "id": admin["prefix"], "email": None}),
    ]


async def test_a_refused_revoke_is_no_event(client: AsyncClient) -> None:
    org = await created_org(client)
    token = await login(client)
    path = f"/api/v1/organizations/{org['id']}/api-keys"
    key = (
        await client.post(path, headers=bearer(token), json={"name": "ci", "role": "viewer"})
    ).json()
    assert (await client.delete(f"{path}/{key['id']}", headers=bearer(token))).status_code == 200
    assert (await client.delete(f"{path}/{key['id']}", headers=bearer(token))).status_code == 404

    types = [e["type"] for e in await all_events(client, org["id"], token)]

    assert types.count("api_key.revoked") == 1
