"""Events through the pull API: one per change, in order, for owners and admins."""

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from bson import ObjectId
from httpx import AsyncClient

from app.access.roles import Role
from app.db.store import Store
from app.events.catalogue import DESCRIPTIONS, EventType
from app.events.models import SYSTEM
from app.events.outbox import Outbox as Outbox_
from app.events.repository import EventRepository
from app.events.subjects import organization_event_subject
from tests.events.feed import all_events, event_types
from tests.outbox import Outbox
from tests.support import NAME, add_account, bearer, created_org, login, rename

EVENT_ID = re.compile(r"^evt_[0-9a-f]{24}_\d{12}$")


async def test_creating_an_organization_is_its_first_event(client: AsyncClient) -> None:
    org = await created_org(client)
    token = await login(client)
    [event] = await all_events(client, org["id"], token)
    assert event["type"] == "organization.created"
    assert EVENT_ID.match(event["id"])
    assert event["sequence"] == 1
    assert event["organization_id"] == org["id"]
    assert event["actor"]["kind"] == "account"
    assert event["actor"]["email"] == "admin@techcorp.com"
    assert event["data"]["organization_name"] == NAME
    assert event["data"]["tenant_collection"] == org["tenant_collection"]


async def test_a_rename_carries_the_previous_and_current_names_and_collections(
    client: AsyncClient,
) -> None:
    org = await created_org(client)
    token = await login(client)
    assert (await rename(client, token, "Tech Innovations 2.0")).status_code == 200
    events = await all_events(client, org["id"], token)
    assert [e["type"] for e in events] == ["organization.created", "organization.renamed"]
    data = events[1]["data"]
    assert data["organization_name"] == "Tech Innovations 2.0"
    assert data["tenant_collection"] == "tenant_tech_innovations_2_0"
    assert data["previous"] == {
        "organization_name": NAME,
        "organization_identifier": "tech-innovations-corp",
        "tenant_collection": "tenant_tech_innovations_corp",
    }


async def test_a_refused_change_has_no_event(client: AsyncClient) -> None:
    org = await created_org(client)
    await created_org(client, "Other Corp", "other@techcorp.com")
    token = await login(client)
    assert (await rename(client, token, "Other Corp")).status_code == 409
    assert await event_types(client, org["id"], token) == ["organization.created"]


async def test_a_workspace_refused_for_its_name_has_no_event(client: AsyncClient) -> None:
    org = await created_org(client)
    token = await login(client)
    workspaces = f"/api/v1/organizations/{org['id']}/workspaces"
    first = await client.post(workspaces, json={"name": "Sales"}, headers=bearer(token))
    assert first.status_code == 201, first.text
    again = await client.post(workspaces, json={"name": " sales "}, headers=bearer(token))
    assert again.status_code == 409, again.text

    types = await event_types(client, org["id"], token)
    assert types.count("workspace.created") == 1, types


async def test_every_kind_of_change_is_one_event_in_order(
    outbox: Outbox, client: AsyncClient, store: Store
) -> None:
    org = await created_org(client)
    token = await login(client)
    path = f"/api/v1/organizations/{org['id']}"
    owner = bearer(token)
    steps = [
        ("PATCH", path, {"description": "Rockets"}),
        ("PATCH", f"{path}/billing", {"plan": "pro"}),
        ("POST", f"{path}/suspend", None),
        ("POST", f"{path}/reactivate", None),
        ("POST", f"{path}/invitations", {"email": "new@techcorp.com", "role": "member"}),
    ]
    for method, url, body in steps:
        response = await client.request(method, url, json=body, headers=owner)
        assert response.status_code < 300, (url, response.text)
    invitation = (await client.get(f"{path}/invitations", headers=owner)).json()["items"][0]["id"]
    resent = await client.post(f"{path}/invitations/{invitation}/resend", headers=owner)
    assert resent.status_code < 300, resent.text
    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={"token": outbox.last_token_for("new@techcorp.com"), "password": "NewPassword123"},
    )
    assert accepted.status_code == 200, accepted.text
    member_id = accepted.json()["admin_id"]
    for method, url, body in [
        ("PATCH", f"{path}/members/{member_id}", {"role": "admin"}),
        ("POST", f"{path}/workspaces", {"name": "Research"}),
    ]:
        response = await client.request(method, url, json=body, headers=owner)
        assert response.status_code < 300, (url, response.text)
    workspace = (await client.get(f"{path}/workspaces", headers=owner)).json()["items"]
    research = next(w["id"] for w in workspace if w["name"] == "Research")
    ws = f"{path}/workspaces/{research}"
    for method, url, body in [
        ("PATCH", ws, {"name": "Science"}),
        ("PUT", f"{ws}/members/{member_id}", {"role": "editor"}),
        ("DELETE", f"{ws}/members/{member_id}", None),
        ("POST", f"{ws}/archive", None),
        ("DELETE", ws, None),
        ("DELETE", f"{path}/members/{member_id}", None),
    ]:
        response = await client.request(method, url, json=body, headers=owner)
        assert response.status_code < 300, (url, response.text)
    assert await event_types(client, org["id"], token) == [
        "organization.created",
        "organization.profile_updated",
        "organization.plan_changed",
        "organization.suspended",
        "organization.reactivated",
        "invitation.created",
        "invitation.resent",
        "invitation.accepted",
        "member.role_changed",
        "workspace.created",
        "workspace.renamed",
        "workspace.member_put",
        "workspace.member_removed",
        "workspace.archived",
        "workspace.deleted",
        "member.removed",
    ]
    events = await all_events(client, org["id"], token)
    assert [e["sequence"] for e in events] == sorted(e["sequence"] for e in events)
    role_changed = next(e for e in events if e["type"] == "member.role_changed")
    assert role_changed["data"]["role"] == "admin"
    assert role_changed["data"]["previous_role"] == "member"
    assert role_changed["data"]["email"] == "new@techcorp.com"


async def test_leaving_and_handing_over_ownership_are_events(
    client: AsyncClient, store: Store
) -> None:
    org = await created_org(client)
    path = f"/api/v1/organizations/{org['id']}"
    heir = str(await add_account(store, org["id"], "heir@techcorp.com", Role.ADMIN))
    await add_account(store, org["id"], "leaver@techcorp.com", Role.MEMBER)
    leaver = await login(client, "leaver@techcorp.com")
    assert (await client.post(f"{path}/members/leave", headers=bearer(leaver))).status_code < 300
    owner = await login(client)
    handed = await client.post(
        f"{path}/members/transfer-ownership", json={"account_id": heir}, headers=bearer(owner)
    )
    assert handed.status_code < 300, handed.text
    heir_token = await login(client, "heir@techcorp.com")
    events = await all_events(client, org["id"], heir_token)
    assert [e["type"] for e in events][-2:] == ["member.left", "member.ownership_transferred"]
    assert events[-1]["data"]["new_owner"]["account_id"] == heir
    assert events[-1]["data"]["previous_owner"]["role"] == "admin"


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
async def test_owners_and_admins_read_events_others_are_refused(
    client: AsyncClient, store: Store, role: Role
) -> None:
    org = await created_org(client)
    email = f"actor-{role.value}@techcorp.com"
    if role is not Role.OWNER:
        await add_account(store, org["id"], email, role)
    token = await login(client, email if role is not Role.OWNER else "admin@techcorp.com")
    response = await client.get(f"/api/v1/organizations/{org['id']}/events", headers=bearer(token))
    if role in (Role.OWNER, Role.ADMIN):
        assert response.status_code == 200
        event_id = response.json()["events"][0]["id"]
        one = await client.get(
            f"/api/v1/organizations/{org['id']}/events/{event_id}", headers=bearer(token)
        )
        assert one.status_code == 200
        assert one.json()["type"] == "organization.created"
    else:
        assert response.status_code == 403


async def test_another_organizations_events_are_not_reachable(client: AsyncClient) -> None:
    mine = await created_org(client)
    theirs = await created_org(client, "Other Corp", "other@techcorp.com")
    token = await login(client)
    response = await client.get(
        f"/api/v1/organizations/{theirs['id']}/events", headers=bearer(token)
    )
    assert response.status_code == 403
    foreign = f"evt_{theirs['id']}_000000000001"
    for query in ({"after": foreign}, {"after": "nonsense"}):
        response = await client.get(
            f"/api/v1/organizations/{mine['id']}/events", params=query, headers=bearer(token)
        )
        assert response.status_code == 400
    missing = await client.get(
        f"/api/v1/organizations/{mine['id']}/events/{foreign}", headers=bearer(token)
    )
    assert missing.status_code == 404


async def test_pages_follow_each_other_and_types_filter(client: AsyncClient) -> None:
    org = await created_org(client)
    token = await login(client)
    path = f"/api/v1/organizations/{org['id']}"
    for n in range(7):
        response = await client.patch(path, json={"description": f"v{n}"}, headers=bearer(token))
        assert response.status_code == 200
    whole = await all_events(client, org["id"], token)
    paged = await all_events(client, org["id"], token, limit=3)
    assert [e["id"] for e in paged] == [e["id"] for e in whole]
    assert len(whole) == 8
    only = await all_events(client, org["id"], token, types=["organization.created"])
    assert [e["type"] for e in only] == ["organization.created"]
    # A poller at the end keeps its place and sees nothing new.
    last = whole[-1]["id"]
    response = await client.get(f"{path}/events", params={"after": last}, headers=bearer(token))
    assert response.json() == {"events": [], "next_cursor": last, "has_more": False}


async def test_concurrent_writers_and_a_poller_see_each_event_once(client: AsyncClient) -> None:
    org = await created_org(client)
    token = await login(client)
    path = f"/api/v1/organizations/{org['id']}"
    seen: list[str] = []
    done = asyncio.Event()

    async def poll() -> None:
        after = None
        while True:
            finished = done.is_set()
            params: dict[str, str] = {"after": after} if after else {}
            body = (await client.get(f"{path}/events", params=params, headers=bearer(token))).json()
            seen.extend(e["id"] for e in body["events"])
            after = body["next_cursor"]
            if finished and not body["has_more"]:
                return
            await asyncio.sleep(0)

    async def write(n: int) -> None:
        response = await client.patch(path, json={"description": f"w{n}"}, headers=bearer(token))
        assert response.status_code == 200

    poller = asyncio.create_task(poll())
    await asyncio.gather(*(write(n) for n in range(12)))
    done.set()
    await poller
    assert len(seen) == len(set(seen)) == 13


async def test_the_catalogue_lists_every_type(client: AsyncClient) -> None:
    response = await client.get("/api/v1/event-types")
    assert response.status_code == 200
    assert [t["type"] for t in response.json()] == [t.value for t in EventType]
    assert set(DESCRIPTIONS) == set(EventType)


async def test_an_event_committed_late_holds_back_the_later_ones(
    client: AsyncClient, store: Store
) -> None:
    org = await created_org(client)
    token = await login(client)
    organization_id = ObjectId(org["id"])
    outbox = Outbox_(EventRepository(store), timedelta(days=1))
    subject = organization_event_subject(organization_id)
    kind = EventType.ORGANIZATION_PROFILE_UPDATED
    async with outbox.recording(kind, organization_id, SYSTEM, {"n": 1}, subject):
        async with outbox.recording(kind, organization_id, SYSTEM, {"n": 2}, subject):
            pass
        # The second is in, with the larger number; a reader that took it now would never
        # see the first. It stops before both.
        assert await event_types(client, org["id"], token) == ["organization.created"]
    events = await all_events(client, org["id"], token)
    assert [e["data"].get("n") for e in events] == [None, 1, 2]


def test_the_guide_documents_every_type() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "guide" / "events.md").read_text()
    for event_type in EventType:
        assert f"| `{event_type.value}` | {DESCRIPTIONS[event_type]} |" in guide, event_type
