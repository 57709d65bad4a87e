"""`/api/v1/organizations`: your organizations, one with its statistics, its profile, rename,
delete, suspension, and the token's organization as the only one a path may name."""

from typing import Any

import pytest
from bson import ObjectId
from httpx import AsyncClient, Response

from app.access.roles import Role
from app.accounts.memberships import MembershipRepository
from app.db.store import Store
from tests.support import (
    EMAIL,
    NAME,
    PASSWORD,
    add_account,
    bearer,
    created_org,
    field_errors,
    tenants,
)

ORGANIZATIONS = "/api/v1/organizations"
PROFILE: dict[str, Any] = {
    "display_name": "TechCorp",
    "domain": "techcorp.com",
    "description": "We innovate.",
    "logo_url": "https://cdn.techcorp.com/logo.png",
    "metadata": {"tier": "gold", "region": {"name": "eu", "zones": ["a", "b"]}},
}


async def owned(client: AsyncClient, name: str = NAME, email: str = EMAIL) -> tuple[str, str]:
    """A new organization's id and a token of its owner."""
    created = await created_org(client, name, email)
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD, "organization_id": created["id"]},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return created["id"], token


async def read(client: AsyncClient, org_id: str, token: str) -> dict[str, Any]:
    response = await client.get(f"{ORGANIZATIONS}/{org_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def patch(client: AsyncClient, org_id: str, token: str, body: dict[str, Any]) -> Response:
    return await client.patch(f"{ORGANIZATIONS}/{org_id}", json=body, headers=bearer(token))


async def rename(client: AsyncClient, org_id: str, token: str, name: str) -> Response:
    return await client.post(
        f"{ORGANIZATIONS}/{org_id}/rename",
        json={"organization_name": name},
        headers=bearer(token),
    )


async def test_you_see_every_organization_you_belong_to_with_your_role(
    client: AsyncClient, store: Store
) -> None:
    first, token = await owned(client)
    second, _ = await owned(client, "Second Corp")
    third, _ = await owned(client, "Someone Elses Corp", "someone@techcorp.com")
    me = (await client.get("/admin/me", headers=bearer(token))).json()
    await MembershipRepository(store).add(ObjectId(me["admin_id"]), ObjectId(third), Role.VIEWER)

    everything = await client.get(ORGANIZATIONS, headers=bearer(token))
    middle = await client.get(
        ORGANIZATIONS, params={"offset": 1, "limit": 1}, headers=bearer(token)
    )

    assert everything.status_code == 200, everything.text
    assert [(o["id"], o["organization_name"], o["role"]) for o in everything.json()["items"]] == [
        (first, NAME, "owner"),
        (second, "Second Corp", "owner"),
        (third, "Someone Elses Corp", "viewer"),
    ]
    assert everything.json()["total"] == 3
    assert [o["id"] for o in middle.json()["items"]] == [second]
    assert middle.json()["total"] == 3
    assert (await client.get(ORGANIZATIONS)).status_code == 401


async def test_an_organization_reads_with_its_statistics(client: AsyncClient, store: Store) -> None:
    org_id, token = await owned(client)
    await add_account(store, org_id, "member@techcorp.com", Role.MEMBER)
    await add_account(store, org_id, "viewer@techcorp.com", Role.VIEWER)
    invited = await client.post(
        f"{ORGANIZATIONS}/{org_id}/invitations",
        json={"email": "soon@techcorp.com", "role": "member"},
        headers=bearer(token),
    )
    assert invited.status_code == 201, invited.text
    await tenants(store)["tenant_tech_innovations_corp"].insert_many([{"n": n} for n in range(3)])

    body = await read(client, org_id, token)

    assert body["id"] == org_id
    assert body["organization_name"] == NAME
    assert body["organization_identifier"] == "tech-innovations-corp"
    assert body["tenant_collection"] == "tenant_tech_innovations_corp"
    assert (body["status"], body["role"]) == ("active", "owner")
    statistics = body["statistics"]
    counts = (
        statistics["members"],
        statistics["pending_invitations"],
        statistics["tenant_documents"],
    )
    assert counts == (3, 1, 3)
    storage = statistics["tenant_storage_bytes"]
    if store.persistent:
        assert isinstance(storage, int)
    else:
        assert storage is None
    assert body["profile"] == {
        "display_name": None,
        "domain": None,
        "description": None,
        "logo_url": None,
        "metadata": {},
    }


async def test_a_profile_patch_changes_only_the_fields_it_names(client: AsyncClient) -> None:
    org_id, token = await owned(client)
    assert (await patch(client, org_id, token, PROFILE)).json()["profile"] == PROFILE

    described = await patch(client, org_id, token, {"description": "We innovate more."})
    cleared = await patch(client, org_id, token, {"domain": None, "metadata": None})

    assert described.status_code == 200, described.text
    assert described.json()["profile"] == {**PROFILE, "description": "We innovate more."}
    assert cleared.status_code == 200, cleared.text
    expected = {**PROFILE, "description": "We innovate more.", "domain": None, "metadata": {}}
    assert cleared.json()["profile"] == expected
    assert (await read(client, org_id, token))["profile"] == expected
    assert (await patch(client, org_id, token, {})).json()["profile"] == expected


async def test_a_domain_is_stored_as_its_lower_case_ascii_form(client: AsyncClient) -> None:
    org_id, token = await owned(client)

    response = await patch(client, org_id, token, {"domain": "Bücher.TechCorp.COM."})

    assert response.json()["profile"]["domain"] == "xn--bcher-kva.techcorp.com"


def nested(depth: int) -> dict[str, Any]:
    """Metadata whose dictionaries nest `depth` levels."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"level": value}
    return value


async def test_metadata_may_nest_three_levels(client: AsyncClient) -> None:
    org_id, token = await owned(client)

    response = await patch(client, org_id, token, {"metadata": nested(3)})

    assert response.status_code == 200, response.text
    assert response.json()["profile"]["metadata"] == nested(3)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"domain": "not a domain"}, "domain", id="domain-with-spaces"),
        pytest.param({"domain": "-techcorp.com"}, "domain", id="domain-leading-hyphen"),
        pytest.param({"domain": "localhost"}, "domain", id="domain-single-label"),
        pytest.param({"logo_url": "http://cdn.techcorp.com/l.png"}, "logo_url", id="logo-http"),
        pytest.param({"logo_url": "javascript:alert(1)"}, "logo_url", id="logo-javascript"),
        pytest.param({"metadata": {"$where": "sleep(1000)"}}, "metadata", id="metadata-$where"),
        pytest.param({"metadata": {"a.b": 1}}, "metadata", id="metadata-dotted-key"),
        pytest.param({"metadata": {"ok": {"$gt": ""}}}, "metadata", id="metadata-nested-operator"),
        pytest.param({"metadata": nested(4)}, "metadata", id="metadata-four-levels"),
        pytest.param({"metadata": {"list": [[{"deep": 1}]]}}, "metadata", id="metadata-deep-lists"),
        pytest.param(
            {"metadata": {f"key{n}": n for n in range(51)}}, "metadata", id="metadata-51-keys"
        ),
        pytest.param({"metadata": {"big": "x" * 9000}}, "metadata", id="metadata-over-8kb"),
        pytest.param({"metadata": "not an object"}, "metadata", id="metadata-not-an-object"),
        pytest.param({"display_name": ""}, "display_name", id="display-name-empty"),
        pytest.param({"description": "x" * 1001}, "description", id="description-too-long"),
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
    ],
)
async def test_a_bad_profile_is_a_400_naming_the_field_and_changes_nothing(
    client: AsyncClient, body: dict[str, Any], field: str
) -> None:
    org_id, token = await owned(client)
    await patch(client, org_id, token, PROFILE)

    response = await patch(client, org_id, token, {"description": "Changed", **body})

    assert field_errors(response) == [field]
    assert (await read(client, org_id, token))["profile"] == PROFILE


async def test_a_rename_moves_the_tenant_collection(client: AsyncClient, store: Store) -> None:
    org_id, token = await owned(client)
    inserted = await tenants(store)["tenant_tech_innovations_corp"].insert_many(
        [{"n": n} for n in range(5)]
    )

    response = await rename(client, org_id, token, "Tech Innovations Corp 2.0")

    assert response.status_code == 200, response.text
    expected = {
        "message": "Organization updated successfully",
        "previous_collection": "tenant_tech_innovations_corp",
        "current_collection": "tenant_tech_innovations_corp_2_0",
        "documents_migrated": 5,
        "organization_identifier": "tech-innovations-corp-2-0",
    }
    assert {key: response.json().get(key) for key in expected} == expected
    assert await tenants(store).list_collection_names() == ["tenant_tech_innovations_corp_2_0"]
    moved = await tenants(store)["tenant_tech_innovations_corp_2_0"].distinct("_id")
    assert sorted(moved) == sorted(inserted.inserted_ids)
    body = await read(client, org_id, token)
    assert (body["organization_name"], body["tenant_collection"]) == (
        "Tech Innovations Corp 2.0",
        "tenant_tech_innovations_corp_2_0",
    )
    lookup = await client.get("/org/get", params={"organization_name": NAME})
    assert lookup.status_code == 404


async def test_a_rename_to_a_name_in_use_is_409(client: AsyncClient) -> None:
    org_id, token = await owned(client)
    await owned(client, "Taken Corp", "taken@techcorp.com")

    response = await rename(client, org_id, token, "TAKEN corp")

    assert response.status_code == 409
    assert (await read(client, org_id, token))["organization_name"] == NAME


async def test_a_purge_removes_the_organization_its_data_and_its_tokens(
    client: AsyncClient, store: Store
) -> None:
    org_id, token = await owned(client)
    other_id, _ = await owned(client, "Other Corp", "other@techcorp.com")
    await add_account(store, org_id, "only-here@techcorp.com", Role.MEMBER)
    both = await add_account(store, org_id, "both@techcorp.com", Role.MEMBER)
    await MembershipRepository(store).add(both, ObjectId(other_id), Role.VIEWER)

    response = await client.request(
        "DELETE",
        f"{ORGANIZATIONS}/{org_id}",
        params={"purge": "true"},
        json={"email": EMAIL, "password": PASSWORD},
        headers=bearer(token),
    )

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "purged"
    assert (await client.get("/org/get", params={"organization_name": NAME})).status_code == 404
    assert await tenants(store).list_collection_names() == ["tenant_other_corp"]
    assert (await client.get(f"{ORGANIZATIONS}/{org_id}", headers=bearer(token))).status_code == 401
    only_here = await client.post(
        "/admin/login", json={"email": "only-here@techcorp.com", "password": PASSWORD}
    )
    assert only_here.status_code == 401
    elsewhere = await client.post(
        "/admin/login", json={"email": "both@techcorp.com", "password": PASSWORD}
    )
    assert (elsewhere.json()["org_id"], elsewhere.json()["role"]) == (other_id, "viewer")


async def test_a_suspended_organization_reads_but_refuses_changes_until_reactivated(
    client: AsyncClient,
) -> None:
    org_id, token = await owned(client)
    path = f"{ORGANIZATIONS}/{org_id}"

    suspended = await client.post(f"{path}/suspend", headers=bearer(token))

    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    assert (await patch(client, org_id, token, {"description": "No"})).status_code == 423
    assert (await rename(client, org_id, token, "Renamed Corp")).status_code == 423
    contract_rename = await client.put(
        "/org/update",
        json={"organization_name": "Renamed Corp", "email": EMAIL, "password": PASSWORD},
        headers=bearer(token),
    )
    assert contract_rename.status_code == 423
    assert (await read(client, org_id, token))["status"] == "suspended"
    assert (await client.get(f"{path}/members", headers=bearer(token))).status_code == 200
    listed = (await client.get(ORGANIZATIONS, headers=bearer(token))).json()["items"]
    assert [o["status"] for o in listed] == ["suspended"]

    reactivated = await client.post(f"{path}/reactivate", headers=bearer(token))

    assert reactivated.status_code == 200, reactivated.text
    assert reactivated.json()["status"] == "active"
    changed = await patch(client, org_id, token, {"description": "Yes"})
    assert changed.status_code == 200, changed.text
    body = await read(client, org_id, token)
    assert (body["organization_name"], body["profile"]["description"]) == (NAME, "Yes")


async def test_a_token_acts_only_for_its_own_organization(client: AsyncClient) -> None:
    mine, token = await owned(client)
    theirs, their_token = await owned(client, "Their Corp", "their@techcorp.com")
    path = f"{ORGANIZATIONS}/{theirs}"

    answers = [
        await client.get(path, headers=bearer(token)),
        await client.get(f"{path}/members", headers=bearer(token)),
        await patch(client, theirs, token, {"description": "Mine now"}),
        await rename(client, theirs, token, "Hijacked Corp"),
        await client.post(f"{path}/suspend", headers=bearer(token)),
        await client.delete(path, headers=bearer(token)),
    ]

    assert [answer.status_code for answer in answers] == [403] * 6
    # Not a member there: nothing to switch to (see tests/sessions/test_switching).
    assert {answer.json()["code"] for answer in answers} == {"not_a_member"}
    assert "switch" not in answers[0].json()["detail"]
    body = await read(client, theirs, their_token)
    assert (body["organization_name"], body["status"]) == ("Their Corp", "active")
    assert body["profile"]["description"] is None
    assert (await read(client, mine, token))["id"] == mine


@pytest.mark.parametrize("org_id", ["not-an-id", "0" * 23, "g" * 24, "$where"])
async def test_a_malformed_organization_id_is_404(client: AsyncClient, org_id: str) -> None:
    _, token = await owned(client)
    path = f"{ORGANIZATIONS}/{org_id}"

    answers = [
        await client.get(path, headers=bearer(token)),
        await client.patch(path, json={"description": "x"}, headers=bearer(token)),
        await client.delete(path, headers=bearer(token)),
        await client.get(f"{path}/members", headers=bearer(token)),
    ]

    assert [answer.status_code for answer in answers] == [404] * 4


async def test_the_v1_paths_need_a_valid_token(client: AsyncClient) -> None:
    org_id, _ = await owned(client)

    answers = [
        await client.get(f"{ORGANIZATIONS}/{org_id}"),
        await client.get(f"{ORGANIZATIONS}/{org_id}", headers=bearer("junk")),
        await client.patch(f"{ORGANIZATIONS}/{org_id}", json={"description": "x"}),
    ]

    assert [answer.status_code for answer in answers] == [401] * 3
