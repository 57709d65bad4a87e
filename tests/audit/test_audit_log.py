"""Every state-changing action leaves an audit entry, readable by owners and admins."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.access.roles import Role
from app.config import Settings
from app.db.schema import AUDIT_LOG
from app.db.store import Store
from tests.support import EMAIL, PASSWORD, add_account, bearer, created_org, login, rename


async def audit(client: AsyncClient, org_id: str, token: str, **params: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/v1/organizations/{org_id}/audit-log", params=params, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_changes_are_recorded_with_actor_address_and_request_id(
    client: AsyncClient, store: Store
) -> None:
    created = await created_org(client)
    org = created["id"]
    await client.post("/admin/login", json={"email": EMAIL, "password": "WrongPassword1"})
    token = await login(client)
    await client.patch(
        f"/api/v1/organizations/{org}",
        json={"display_name": "TechCorp"},
        headers={**bearer(token), "X-Request-ID": "profile-change-1"},
    )
    await client.patch(
        f"/api/v1/organizations/{org}/billing", json={"plan": "pro"}, headers=bearer(token)
    )
    await client.post(
        f"/api/v1/organizations/{org}/invitations",
        json={"email": "dev@techcorp.com", "role": "member"},
        headers=bearer(token),
    )
    await client.post(f"/api/v1/organizations/{org}/suspend", headers=bearer(token))
    await client.post(f"/api/v1/organizations/{org}/reactivate", headers=bearer(token))
    renamed = await rename(client, token, "Audited Corp")
    assert renamed.status_code == 200

    log = await audit(client, org, token, limit="100")

    items = log["items"]
    actions = [entry["action"] for entry in items]
    assert actions == [
        "organization.rename",
        "organization.reactivate",
        "organization.suspend",
        "invitation.create",
        "billing.update",
        "organization.profile_update",
        "login.success",
        "login.failure",
        "organization.create",
    ]
    profile = next(e for e in items if e["action"] == "organization.profile_update")
    assert profile["request_id"] == "profile-change-1"
    assert profile["actor_email"] == EMAIL
    assert profile["client_address"] == "127.0.0.1"
    assert profile["details"] == {"fields": ["display_name"]}
    stored = json.dumps(await store.master[AUDIT_LOG].find({}, {"_id": 0}).to_list(), default=str)
    assert PASSWORD not in stored
    assert "WrongPassword1" not in stored
    assert token not in stored


async def test_member_changes_are_recorded(client: AsyncClient, store: Store) -> None:
    created = await created_org(client)
    member = await add_account(store, created["id"], "dev@techcorp.com", Role.MEMBER)
    token = await login(client)
    await client.patch(
        f"/api/v1/organizations/{created['id']}/members/{member}",
        json={"role": "viewer"},
        headers=bearer(token),
    )

    log = await audit(client, created["id"], token, action="member.role_change")

    [entry] = log["items"]
    assert entry["target"] == str(member)
    assert entry["details"] == {"from": "member", "to": "viewer"}


async def test_filters_by_time_range(client: AsyncClient) -> None:
    created = await created_org(client)
    token = await login(client)
    now = datetime.now(UTC)

    future = await audit(client, created["id"], token, since=(now + timedelta(hours=1)).isoformat())
    past = await audit(client, created["id"], token, until=(now - timedelta(hours=1)).isoformat())
    window = await audit(
        client,
        created["id"],
        token,
        since=(now - timedelta(hours=1)).isoformat(),
        until=(now + timedelta(hours=1)).isoformat(),
    )

    assert future["total"] == past["total"] == 0
    assert window["total"] == 2  # organization.create and login.success


@pytest.mark.parametrize(
    "moment",
    [
        "0.5",  # pydantic alone reads numbers as Unix times
        "1700000000",
        "2026-12-03",  # a date alone
        "2026-12-03T09:15:00",  # no offset: which zone?
        "2026-12-03 09:15:00Z",
        "2026-12-03T09:15:00 01:00",  # a `+` sent unencoded, which a URL turns into a space
        "2026-02-30T00:00:00Z",
        "yesterday",
        "",
    ],
)
@pytest.mark.parametrize("parameter", ["since", "until"])
async def test_times_must_be_rfc3339_date_times(
    client: AsyncClient, parameter: str, moment: str
) -> None:
    created = await created_org(client)
    token = await login(client)

    response = await client.get(
        f"/api/v1/organizations/{created['id']}/audit-log",
        params={parameter: moment},
        headers=bearer(token),
    )

    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_input"
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", parameter]
    assert error["msg"]


async def test_any_offset_names_the_same_instant(client: AsyncClient) -> None:
    created = await created_org(client)
    token = await login(client)
    now = datetime.now(UTC) + timedelta(seconds=5)
    # The same instant, written in UTC and two hours east of it, lower case allowed.
    ahead = (now + timedelta(hours=2)).replace(tzinfo=None).isoformat() + "+02:00"

    as_utc = await audit(client, created["id"], token, until=now.isoformat().replace("+00:00", "z"))
    as_offset = await audit(client, created["id"], token, until=ahead, limit="1")

    assert as_utc["total"] == as_offset["total"] == 2
    rest = await audit(client, created["id"], token, until=ahead, cursor=as_offset["next_cursor"])
    assert len(rest["items"]) == 1
    unix = await client.get(
        f"/api/v1/organizations/{created['id']}/audit-log",
        params={"until": "0.5"},
        headers=bearer(token),
    )
    assert "RFC 3339" in unix.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.ADMIN, True), (Role.BILLING_ADMIN, False), (Role.MEMBER, False), (Role.VIEWER, False)],
)
async def test_who_may_read_it(
    client: AsyncClient, store: Store, role: Role, allowed: bool
) -> None:
    created = await created_org(client)
    await add_account(store, created["id"], "someone@techcorp.com", role)
    token = await login(client, email="someone@techcorp.com")

    response = await client.get(
        f"/api/v1/organizations/{created['id']}/audit-log", headers=bearer(token)
    )

    assert response.status_code == (200 if allowed else 403)


async def test_entries_expire_after_the_retention_period(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    indexes = await store.master[AUDIT_LOG].index_information()

    assert indexes["retention"]["expireAfterSeconds"] == settings.audit_retention_days * 86_400
