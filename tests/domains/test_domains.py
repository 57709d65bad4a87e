"""The domain endpoints for every role: add, list, read, change, remove, verify; what is
refused (consumer domains, malformed ones, one verified elsewhere); events and audit."""

import pytest
from httpx import AsyncClient

from app.access.roles import Role
from app.db.store import Store
from tests.domains.conftest import (
    Org,
    add_domain,
    added,
    organization,
    publish,
    verified_domain,
    verify,
)
from tests.domains.dns_server import Zone
from tests.support import PASSWORD, add_account, bearer, login

ROLES = [Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER, Role.VIEWER]


async def as_role(client: AsyncClient, store: Store, org: Org, role: Role) -> dict[str, str]:
    email = f"{role.value}.person@techcorp.com"
    await add_account(store, org.id, email, role, PASSWORD)
    return bearer(await login(client, email))


async def test_an_owner_adds_lists_reads_and_removes_a_domain(client: AsyncClient) -> None:
    org = await organization(client)

    created = await add_domain(client, org, "TechCorp.com.")

    assert created.status_code == 201, created.text
    domain = created.json()
    assert created.headers["Location"].endswith(f"/domains/{domain['id']}")
    assert (domain["domain"], domain["status"], domain["join_policy"]) == (
        "techcorp.com",
        "pending",
        "manual",
    )
    assert domain["default_role"] == "member"
    listed = await client.get(org.domains, headers=org.owner)
    assert [item["id"] for item in listed.json()["items"]] == [domain["id"]]
    read = await client.get(f"{org.domains}/{domain['id']}", headers=org.owner)
    assert read.json() == domain

    removed = await client.delete(f"{org.domains}/{domain['id']}", headers=org.owner)

    assert removed.status_code == 200
    gone = await client.get(f"{org.domains}/{domain['id']}", headers=org.owner)
    assert gone.status_code == 404
    assert gone.json()["code"] == "domain_not_found"
    assert (await client.get(org.domains, headers=org.owner)).json()["items"] == []


@pytest.mark.parametrize("role", ROLES)
async def test_who_may_manage_domains(client: AsyncClient, store: Store, role: Role) -> None:
    org = await organization(client)
    domain = await added(client, org)
    caller = await as_role(client, store, org, role)
    path = f"{org.domains}/{domain['id']}"
    may = role is Role.ADMIN

    answers = {
        "add": await client.post(org.domains, json={"domain": "other.example"}, headers=caller),
        "patch": await client.patch(path, json={"join_policy": "suggest"}, headers=caller),
        "verify": await client.post(f"{path}/verify", headers=caller),
        "delete": await client.delete(path, headers=caller),
    }

    for what, answer in answers.items():
        if may:
            assert answer.status_code in (200, 201, 409), (what, answer.text)
        else:
            assert answer.status_code == 403, (what, answer.text)
            assert answer.json()["code"] == "role_not_allowed"
    # Everyone in the organization reads its domains.
    assert (await client.get(org.domains, headers=caller)).status_code == 200
    if not may:
        assert (await client.get(path, headers=caller)).json()["id"] == domain["id"]


async def test_another_organization_sees_none_of_its_domains(client: AsyncClient) -> None:
    org = await organization(client)
    domain = await added(client, org)
    other = await organization(client, "Other Corp", "owner@other.example")

    refused = await client.get(f"{org.domains}/{domain['id']}", headers=other.owner)
    own = await client.get(f"{other.domains}/{domain['id']}", headers=other.owner)

    assert refused.status_code == 403
    assert own.status_code == 404


@pytest.mark.parametrize("consumer", ["gmail.com", "Outlook.com", "mail.yahoo.com"])
async def test_consumer_mail_domains_are_refused(client: AsyncClient, consumer: str) -> None:
    org = await organization(client)

    refused = await add_domain(client, org, consumer)

    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_domain"
    assert "consumer mail domain" in refused.json()["detail"][0]["msg"]
    assert [item["loc"][-1] for item in refused.json()["detail"]] == ["domain"]


@pytest.mark.parametrize("bad", ["localhost", "192.0.2.1", "techcorp.com:8080", "x@y.com", ""])
async def test_what_is_no_domain_is_refused(client: AsyncClient, bad: str) -> None:
    org = await organization(client)

    refused = await add_domain(client, org, bad)

    assert refused.status_code == 400
    assert [item["loc"][-1] for item in refused.json()["detail"]] == ["domain"]


async def test_a_domain_is_added_once_per_organization(client: AsyncClient) -> None:
    org = await organization(client)
    await added(client, org)

    again = await add_domain(client, org, "TECHCORP.COM")

    assert again.status_code == 409
    assert again.json()["code"] == "domain_already_added"


async def test_a_verified_domain_belongs_to_one_organization(
    client: AsyncClient, zone: Zone
) -> None:
    first = await organization(client)
    await verified_domain(client, zone, first)
    second = await organization(client, "Rival Corp", "owner@rival.example")
    theirs = await added(client, second)  # pending entries may share the domain
    publish(zone, theirs)

    refused = await verify(client, second, theirs["id"])

    assert refused.status_code == 409
    assert refused.json()["code"] == "domain_verified_elsewhere"
    shown = (await client.get(f"{second.domains}/{theirs['id']}", headers=second.owner)).json()
    assert shown["status"] == "pending"


async def test_a_removed_verified_domain_can_be_verified_by_another(
    client: AsyncClient, zone: Zone
) -> None:
    first = await organization(client)
    ours = await verified_domain(client, zone, first)
    second = await organization(client, "Rival Corp", "owner@rival.example")
    theirs = await added(client, second)
    publish(zone, theirs)
    await client.delete(f"{first.domains}/{ours['id']}", headers=first.owner)

    assert (await verify(client, second, theirs["id"])).json()["status"] == "verified"


async def test_the_join_policy_and_default_role_change(client: AsyncClient) -> None:
    org = await organization(client)
    domain = await added(client, org)
    path = f"{org.domains}/{domain['id']}"

    changed = await client.patch(
        path, json={"join_policy": "auto", "default_role": "viewer"}, headers=org.owner
    )

    assert changed.status_code == 200, changed.text
    assert (changed.json()["join_policy"], changed.json()["default_role"]) == ("auto", "viewer")
    owner_role = await client.patch(path, json={"default_role": "owner"}, headers=org.owner)
    assert owner_role.status_code == 400
    unknown = await client.patch(path, json={"join_policy": "sometimes"}, headers=org.owner)
    assert unknown.status_code == 400


async def test_only_an_owner_makes_admin_the_default_role(
    client: AsyncClient, store: Store
) -> None:
    org = await organization(client)
    domain = await added(client, org)
    admin = await as_role(client, store, org, Role.ADMIN)
    path = f"{org.domains}/{domain['id']}"

    refused = await client.patch(path, json={"default_role": "admin"}, headers=admin)
    allowed = await client.patch(path, json={"default_role": "admin"}, headers=org.owner)

    assert refused.status_code == 403
    assert allowed.json()["default_role"] == "admin"


async def test_malformed_ids_are_not_found(client: AsyncClient) -> None:
    org = await organization(client)

    answer = await client.get(f"{org.domains}/not-an-id", headers=org.owner)

    assert answer.status_code == 404
    assert answer.json()["code"] == "domain_not_found"


async def test_the_list_pages_with_cursors(client: AsyncClient) -> None:
    org = await organization(client)
    ids = [(await added(client, org, f"d{n}.techcorp.com"))["id"] for n in range(3)]

    first = (await client.get(org.domains, params={"limit": 2}, headers=org.owner)).json()
    rest = await client.get(
        org.domains, params={"limit": 2, "cursor": first["next_cursor"]}, headers=org.owner
    )

    assert [item["id"] for item in first["items"] + rest.json()["items"]] == ids
    assert rest.json()["next_cursor"] is None


async def test_domain_changes_are_events_and_audit_entries(client: AsyncClient, zone: Zone) -> None:
    org = await organization(client)
    domain = await verified_domain(client, zone, org, join_policy="suggest")
    await client.delete(f"{org.domains}/{domain['id']}", headers=org.owner)

    events = await client.get(f"/api/v1/organizations/{org.id}/events", headers=org.owner)
    audit = await client.get(f"/api/v1/organizations/{org.id}/audit-log", headers=org.owner)

    types = [event["type"] for event in events.json()["events"]]
    assert [t for t in types if t.startswith("domain.")] == [
        "domain.added",
        "domain.verified",
        "domain.updated",
        "domain.removed",
    ]
    updated = next(e for e in events.json()["events"] if e["type"] == "domain.updated")
    assert updated["data"]["join_policy"] == "suggest"
    assert updated["data"]["previous"]["join_policy"] == "manual"
    actions = {entry["action"] for entry in audit.json()["items"]}
    assert {"domain.add", "domain.verify", "domain.update", "domain.remove"} <= actions


async def test_a_deleted_organization_frees_its_verified_domain(
    client: AsyncClient, zone: Zone
) -> None:
    first = await organization(client)
    await verified_domain(client, zone, first)
    second = await organization(client, "Rival Corp", "owner@rival.example")
    theirs = await added(client, second)
    publish(zone, theirs)
    assert (await verify(client, second, theirs["id"])).status_code == 409

    deleted = await client.request(
        "DELETE",
        "/org/delete",
        json={"organization_name": "Tech Innovations Corp"},
        headers=first.owner,
    )

    assert deleted.status_code == 200, deleted.text
    assert (await verify(client, second, theirs["id"])).json()["status"] == "verified"
