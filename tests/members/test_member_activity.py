"""Members show who invited them and when they were last active."""

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from app.db.store import Store
from tests.outbox import Outbox
from tests.support import EMAIL, bearer, create_org, login


async def test_invited_by_and_last_active_at(
    outbox: Outbox, client: AsyncClient, store: Store
) -> None:
    org = (await create_org(client)).json()["id"]
    owner = bearer(await login(client))
    members = f"/api/v1/organizations/{org}/members"
    invited = await client.post(
        f"/api/v1/organizations/{org}/invitations",
        json={"email": "dev@techcorp.com", "role": "member"},
        headers=owner,
    )
    assert invited.status_code == 201, invited.text
    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={"token": outbox.last_token_for("dev@techcorp.com"), "password": "DevPassword123"},
    )
    assert accepted.status_code == 200, accepted.text
    dev = accepted.json()["admin_id"]

    listed = (await client.get(members, headers=owner)).json()["items"]
    founder, newcomer = listed
    assert founder["invited_by"] is None
    assert founder["last_active_at"] is not None
    assert newcomer["invited_by"] == {"account_id": founder["account_id"], "email": EMAIL}
    assert newcomer["last_active_at"] is None

    dev_token = bearer(accepted.json()["access_token"])
    single = await client.get(f"{members}/{dev}", headers=dev_token)
    assert single.status_code == 200, single.text
    first_seen = single.json()["last_active_at"]
    assert first_seen is not None
    again = (await client.get(f"{members}/{dev}", headers=dev_token)).json()
    assert again["last_active_at"] == first_seen  # within the interval: not written again

    # Once the recorded time is older than the interval, the next request moves it.
    long_ago = datetime.now(UTC) - timedelta(minutes=6)
    await store.master["memberships"].update_one(
        {"_id": f"{dev}:{org}"}, {"$set": {"last_active_at": long_ago}}
    )
    moved = (await client.get(f"{members}/{dev}", headers=dev_token)).json()
    assert moved["last_active_at"] > first_seen
