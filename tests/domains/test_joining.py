"""Joining by a verified domain: who sees an organization as joinable, joining at once
(`auto`) within the plan's member limit, even under concurrency, and asking (`suggest`)
for owners and admins to approve or deny."""

import asyncio
from datetime import timedelta

import pytest
from httpx import AsyncClient, Response

from app.access.roles import Role
from app.config import Settings
from app.db.store import Store
from app.domains.service import DomainService
from app.plans import Plan
from tests.domains.conftest import Org, organization, person, verified_domain
from tests.domains.dns_server import Zone
from tests.outbox import Outbox
from tests.support import PASSWORD, add_account, bearer, login

JOINABLE = "/api/v1/organizations/joinable"


async def joinable(client: AsyncClient, headers: dict[str, str]) -> list[dict[str, str]]:
    response = await client.get(JOINABLE, headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, str]] = response.json()["organizations"]
    return found


async def join(client: AsyncClient, org: Org, headers: dict[str, str]) -> Response:
    return await client.post(f"/api/v1/organizations/{org.id}/join", headers=headers)


async def members(client: AsyncClient, org: Org) -> dict[str, str]:
    listed = await client.get(
        f"/api/v1/organizations/{org.id}/members", params={"limit": 100}, headers=org.owner
    )
    assert listed.status_code == 200, listed.text
    return {item["email"]: item["role"] for item in listed.json()["items"]}


async def test_an_account_at_a_suggest_domain_sees_the_organization(
    client: AsyncClient, store: Store, zone: Zone
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="suggest", default_role="viewer")
    alice = await person(client, store, "alice@techcorp.com")

    found = await joinable(client, alice)

    assert found == [
        {
            "organization_id": org.id,
            "organization_name": "Tech Innovations Corp",
            "domain": "techcorp.com",
            "join_policy": "suggest",
            "role": "viewer",
        }
    ]


async def test_an_unverified_email_sees_nothing_and_cannot_join(
    client: AsyncClient, store: Store, zone: Zone
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="auto")
    bob = await person(client, store, "bob@techcorp.com", verified=False)

    listed = await client.get(JOINABLE, headers=bob)
    joined = await join(client, org, bob)

    assert listed.status_code == 403
    assert listed.json()["code"] == "email_not_verified"
    assert joined.status_code == 403
    assert "bob@techcorp.com" not in await members(client, org)


async def test_the_verification_link_opens_the_way(
    client: AsyncClient, store: Store, zone: Zone, outbox: Outbox
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="suggest")
    bob = await person(client, store, "bob@techcorp.com", verified=False)
    await client.post("/api/v1/auth/email-verification", headers=bob)
    token = outbox.last_token_for("bob@techcorp.com")
    await client.post("/api/v1/auth/email-verification/confirm", json={"token": token})

    assert [item["organization_id"] for item in await joinable(client, bob)] == [org.id]


@pytest.mark.parametrize(
    "situation", ["manual", "pending", "other domain", "member already", "lapsed"]
)
async def test_who_does_not_see_the_organization(
    client: AsyncClient, store: Store, zone: Zone, checks: DomainService, situation: str
) -> None:
    org = await organization(client)
    if situation == "pending":
        await client.post(org.domains, json={"domain": "techcorp.com"}, headers=org.owner)
        domain = (await client.get(org.domains, headers=org.owner)).json()["items"][0]
        await client.patch(
            f"{org.domains}/{domain['id']}", json={"join_policy": "auto"}, headers=org.owner
        )
    else:
        policy = {} if situation == "manual" else {"join_policy": "auto"}
        await verified_domain(client, zone, org, **policy)
    email = "carol@elsewhere.example" if situation == "other domain" else "carol@techcorp.com"
    carol = await person(client, store, email)
    if situation == "member already":
        assert (await join(client, org, carol)).status_code == 200
    if situation == "lapsed":
        zone.remove("_tenantry-challenge.techcorp.com")
        assert await checks.check_due(timedelta(0)) == 1

    assert await joinable(client, carol) == []
    refused = await join(client, org, carol)
    expected = "already_a_member" if situation == "member already" else "organization_not_joinable"
    assert refused.json()["code"] == expected


async def test_auto_joins_at_once_with_the_default_role(
    client: AsyncClient, store: Store, zone: Zone
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="auto", default_role="viewer")
    dave = await person(client, store, "dave@techcorp.com")

    joined = await join(client, org, dave)

    assert joined.status_code == 200, joined.text
    assert joined.json() == {
        "organization_id": org.id,
        "status": "joined",
        "role": "viewer",
        "request_id": None,
    }
    assert (await members(client, org))["dave@techcorp.com"] == "viewer"
    switched = await client.post(
        "/api/v1/auth/switch", json={"organization_id": org.id}, headers=dave
    )
    assert switched.status_code == 200
    assert switched.json()["role"] == "viewer"
    events = await client.get(f"/api/v1/organizations/{org.id}/events", headers=org.owner)
    [event] = [e for e in events.json()["events"] if e["type"] == "member.joined"]
    assert event["data"]["member"]["email"] == "dave@techcorp.com"
    audit = await client.get(f"/api/v1/organizations/{org.id}/audit-log", headers=org.owner)
    assert "member.join" in {entry["action"] for entry in audit.json()["items"]}


async def test_auto_join_respects_the_member_limit(
    client: AsyncClient, store: Store, zone: Zone, settings: Settings
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="auto")
    limit = settings.plans.member_limit(Plan.FREE)
    assert limit is not None
    for n in range(limit - 1):
        await add_account(store, org.id, f"m{n}@techcorp.com", Role.MEMBER, PASSWORD)
    erin = await person(client, store, "erin@techcorp.com")

    refused = await join(client, org, erin)

    assert refused.status_code == 409
    assert refused.json()["code"] == "member_limit_reached"
    assert "erin@techcorp.com" not in await members(client, org)


async def test_concurrent_auto_joins_never_exceed_the_member_limit(
    client: AsyncClient, store: Store, zone: Zone, settings: Settings
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="auto")
    limit = settings.plans.member_limit(Plan.FREE)
    assert limit is not None
    people = [await person(client, store, f"rush{n}@techcorp.com") for n in range(limit + 3)]

    answers = await asyncio.gather(*(join(client, org, headers) for headers in people))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * (limit - 1) + [409] * 4, [a.text for a in answers]
    assert len(await members(client, org)) == limit


async def test_concurrent_joins_and_invitations_share_the_seats(
    client: AsyncClient, store: Store, zone: Zone, settings: Settings
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="auto")
    limit = settings.plans.member_limit(Plan.FREE)
    assert limit is not None
    people = [await person(client, store, f"rush{n}@techcorp.com") for n in range(limit)]
    invitations = f"/api/v1/organizations/{org.id}/invitations"

    answers = await asyncio.gather(
        *(join(client, org, headers) for headers in people),
        *(
            client.post(
                invitations, json={"email": f"i{n}@x.example", "role": "member"}, headers=org.owner
            )
            for n in range(limit)
        ),
    )

    taken = sum(answer.status_code in (200, 201) for answer in answers)
    assert taken == limit - 1
    pending = await client.get(invitations, headers=org.owner)
    assert len(await members(client, org)) + len(pending.json()["items"]) == limit


async def test_suggest_makes_a_request_that_an_admin_approves(
    client: AsyncClient, store: Store, zone: Zone
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="suggest", default_role="viewer")
    admin_email = "the.admin@techcorp.com"
    await add_account(store, org.id, admin_email, Role.ADMIN, PASSWORD)
    admin = bearer(await login(client, admin_email))
    frank = await person(client, store, "frank@techcorp.com")

    asked = await join(client, org, frank)

    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "requested"
    request_id = asked.json()["request_id"]
    again = await join(client, org, frank)
    assert again.status_code == 409
    assert again.json()["code"] == "join_request_pending"
    assert "frank@techcorp.com" not in await members(client, org)
    listed = await client.get(org.requests, headers=admin)
    assert [(r["id"], r["email"], r["status"]) for r in listed.json()["items"]] == [
        (request_id, "frank@techcorp.com", "pending")
    ]

    approved = await client.post(f"{org.requests}/{request_id}/approve", headers=admin)

    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["role"]) == ("approved", "viewer")
    assert (await members(client, org))["frank@techcorp.com"] == "viewer"
    assert (await client.get(org.requests, headers=admin)).json()["items"] == []
    twice = await client.post(f"{org.requests}/{request_id}/deny", headers=admin)
    assert twice.status_code == 409
    assert twice.json()["code"] == "join_request_decided"
    events = await client.get(f"/api/v1/organizations/{org.id}/events", headers=org.owner)
    types = [e["type"] for e in events.json()["events"]]
    assert {"join_request.created", "join_request.approved"} <= set(types)


async def test_an_approval_may_give_another_role_within_the_approver_s_own(
    client: AsyncClient, store: Store, zone: Zone
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="suggest")
    await add_account(store, org.id, "the.admin@techcorp.com", Role.ADMIN, PASSWORD)
    admin = bearer(await login(client, "the.admin@techcorp.com"))
    gina = await person(client, store, "gina@techcorp.com")
    request_id = (await join(client, org, gina)).json()["request_id"]
    path = f"{org.requests}/{request_id}/approve"

    too_high = await client.post(path, json={"role": "admin"}, headers=admin)
    approved = await client.post(path, json={"role": "billing_admin"}, headers=admin)

    assert too_high.status_code == 403
    assert approved.json()["role"] == "billing_admin"
    assert (await members(client, org))["gina@techcorp.com"] == "billing_admin"


async def test_a_denied_request_makes_no_member_and_may_be_made_again(
    client: AsyncClient, store: Store, zone: Zone
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="suggest")
    hank = await person(client, store, "hank@techcorp.com")
    request_id = (await join(client, org, hank)).json()["request_id"]

    denied = await client.post(f"{org.requests}/{request_id}/deny", headers=org.owner)

    assert denied.status_code == 200
    assert denied.json()["status"] == "denied"
    assert "hank@techcorp.com" not in await members(client, org)
    read = await client.get(f"{org.requests}/{request_id}", headers=org.owner)
    assert read.json()["status"] == "denied"
    assert (await join(client, org, hank)).status_code == 202
    events = await client.get(f"/api/v1/organizations/{org.id}/events", headers=org.owner)
    assert "join_request.denied" in {e["type"] for e in events.json()["events"]}


async def test_approving_respects_the_member_limit(
    client: AsyncClient, store: Store, zone: Zone, settings: Settings
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="suggest")
    ivan = await person(client, store, "ivan@techcorp.com")
    request_id = (await join(client, org, ivan)).json()["request_id"]
    limit = settings.plans.member_limit(Plan.FREE)
    assert limit is not None
    for n in range(limit - 1):
        await add_account(store, org.id, f"m{n}@techcorp.com", Role.MEMBER, PASSWORD)

    refused = await client.post(f"{org.requests}/{request_id}/approve", headers=org.owner)

    assert refused.status_code == 409
    assert refused.json()["code"] == "member_limit_reached"
    still = await client.get(f"{org.requests}/{request_id}", headers=org.owner)
    assert still.json()["status"] == "pending"


@pytest.mark.parametrize("role", [Role.BILLING_ADMIN, Role.MEMBER, Role.VIEWER])
async def test_only_owners_and_admins_decide_requests(
    client: AsyncClient, store: Store, zone: Zone, role: Role
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="suggest")
    judy = await person(client, store, "judy@techcorp.com")
    request_id = (await join(client, org, judy)).json()["request_id"]
    email = f"{role.value}.person@techcorp.com"
    await add_account(store, org.id, email, role, PASSWORD)
    caller = bearer(await login(client, email))

    answers = [
        await client.get(org.requests, headers=caller),
        await client.get(f"{org.requests}/{request_id}", headers=caller),
        await client.post(f"{org.requests}/{request_id}/approve", headers=caller),
        await client.post(f"{org.requests}/{request_id}/deny", headers=caller),
    ]

    assert [answer.status_code for answer in answers] == [403] * 4
    still = await client.get(f"{org.requests}/{request_id}", headers=org.owner)
    assert still.json()["status"] == "pending"


async def test_joining_needs_a_signed_in_account(client: AsyncClient, zone: Zone) -> None:
    org = await organization(client)

    assert (await client.get(JOINABLE)).status_code == 401
    assert (await client.post(f"/api/v1/organizations/{org.id}/join")).status_code == 401
    unknown = await client.post("/api/v1/organizations/nope/join", headers=org.owner)
    assert unknown.status_code == 403


async def test_api_keys_manage_domains_but_never_join(
    client: AsyncClient, store: Store, zone: Zone
) -> None:
    org = await organization(client)
    await verified_domain(client, zone, org, join_policy="auto")
    keys = f"/api/v1/organizations/{org.id}/api-keys"
    made = await client.post(keys, json={"name": "ops", "role": "admin"}, headers=org.owner)
    key = bearer(made.json()["secret"])

    added = await client.post(org.domains, json={"domain": "ops.techcorp.com"}, headers=key)
    listed = await client.get(JOINABLE, headers=key)
    joined = await join(client, org, key)

    assert added.status_code == 201, added.text
    assert (listed.status_code, listed.json()["code"]) == (403, "api_key_not_allowed")
    assert (joined.status_code, joined.json()["code"]) == (403, "api_key_not_allowed")
