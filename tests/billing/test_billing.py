"""The organization's plan and billing details, `/api/v1/organizations/{org_id}/billing`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from bson import ObjectId
from httpx import ASGITransport, AsyncClient

from app.access.roles import Role
from app.config import Settings
from app.db.schema import INVITATIONS, ORGANIZATIONS
from app.db.store import Store
from app.factory import create_app
from app.plans import Plan
from app.registry.models import Status
from app.registry.repository import OrganizationRepository
from tests.conftest import borrowed
from tests.support import add_account, bearer, created_org, field_errors, login

BILLING_PREFIX = "/api/v1/organizations/{org_id}/billing"

ADDRESS = {
    "line1": "Friedrichstraße 68",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
}
EVERYTHING: dict[str, Any] = {
    "plan": "pro",
    "billing_email": "billing@techcorp.com",
    "billing_address": {**ADDRESS, "line2": "3. Etage", "region": "Berlin"},
    "stripe_customer_id": "cus_NffrFeUfNV2Hib",
    "lago_customer_id": "tech-innovations_1",
}
LATER = datetime.now(UTC) + timedelta(days=7)
UNSET = {
    "plan": "free",
    "member_limit": 5,
    "billing_email": None,
    "billing_address": None,
    "stripe_customer_id": None,
    "lago_customer_id": None,
}


@asynccontextmanager
async def serving(settings: Settings, store: Store) -> AsyncIterator[AsyncClient]:
    app = create_app(settings, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client


@pytest.fixture
def billing_client(client: AsyncClient) -> AsyncClient:
    return client


@pytest.fixture
async def org_id(billing_client: AsyncClient) -> str:
    created = await created_org(billing_client)
    org: str = created["id"]
    return org


@pytest.fixture
async def owner(billing_client: AsyncClient, org_id: str) -> dict[str, str]:
    return bearer(await login(billing_client))


def billing_path(org_id: str) -> str:
    return BILLING_PREFIX.format(org_id=org_id)


async def add_members(store: Store, org_id: str, count: int) -> None:
    for number in range(count):
        await add_account(store, org_id, f"member{number}@techcorp.com", Role.MEMBER)


async def patch(
    client: AsyncClient, org_id: str, headers: dict[str, str], body: object
) -> dict[str, Any]:
    response = await client.patch(billing_path(org_id), json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def read(client: AsyncClient, org_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(billing_path(org_id), headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- Defaults and plans ---------------------------------------------------------------------


async def test_a_new_organization_is_on_the_default_plan_with_nothing_set(
    billing_client: AsyncClient, org_id: str, owner: dict[str, str]
) -> None:
    assert await read(billing_client, org_id, owner) == UNSET


async def test_the_default_plan_and_limits_come_from_the_settings(
    settings: Settings, store: Store
) -> None:
    custom = settings.model_copy(
        update={
            "default_plan": Plan.PRO,
            "plan_member_limits": {Plan.FREE: 2, Plan.PRO: 7, Plan.ENTERPRISE: 0},
        }
    )
    async with serving(custom, store) as client:
        org_id = (await created_org(client))["id"]
        owner = bearer(await login(client))

        billing = await read(client, org_id, owner)

    assert (billing["plan"], billing["member_limit"]) == ("pro", 7)


@pytest.mark.parametrize(("plan", "limit"), [("free", 5), ("pro", 50), ("enterprise", None)])
async def test_each_plan_reports_its_member_limit(
    billing_client: AsyncClient, org_id: str, owner: dict[str, str], plan: str, limit: int | None
) -> None:
    if plan == "free":
        await patch(billing_client, org_id, owner, {"plan": "pro"})

    changed = await patch(billing_client, org_id, owner, {"plan": plan})

    assert (changed["plan"], changed["member_limit"]) == (plan, limit)
    assert await read(billing_client, org_id, owner) == changed


# --- Who may -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "read_status", "edit_status"),
    [
        (Role.OWNER, 200, 200),
        (Role.ADMIN, 200, 403),
        (Role.BILLING_ADMIN, 200, 200),
        (Role.MEMBER, 403, 403),
        (Role.VIEWER, 403, 403),
    ],
)
async def test_each_role_reads_and_edits_billing_as_the_roles_table_says(
    billing_client: AsyncClient,
    store: Store,
    org_id: str,
    role: Role,
    read_status: int,
    edit_status: int,
) -> None:
    email = f"{role.value}.role@techcorp.com"
    await add_account(store, org_id, email, role)
    caller = bearer(await login(billing_client, email=email))

    read_response = await billing_client.get(billing_path(org_id), headers=caller)
    edit_response = await billing_client.patch(
        billing_path(org_id), json={"billing_email": "ap@techcorp.com"}, headers=caller
    )

    assert read_response.status_code == read_status, read_response.text
    assert edit_response.status_code == edit_status, edit_response.text
    owner = bearer(await login(billing_client))
    stored = (await read(billing_client, org_id, owner))["billing_email"]
    assert stored == ("ap@techcorp.com" if edit_status == 200 else None)


async def test_a_token_of_another_organization_is_403(
    billing_client: AsyncClient, org_id: str, owner: dict[str, str]
) -> None:
    await created_org(billing_client, name="Other Corp", email="boss@other.example")
    stranger = bearer(await login(billing_client, email="boss@other.example"))

    read_response = await billing_client.get(billing_path(org_id), headers=stranger)
    edit_response = await billing_client.patch(
        billing_path(org_id), json={"plan": "pro"}, headers=stranger
    )

    assert (read_response.status_code, edit_response.status_code) == (403, 403)
    assert await read(billing_client, org_id, owner) == UNSET


async def test_without_a_token_it_is_401(billing_client: AsyncClient, org_id: str) -> None:
    read_response = await billing_client.get(billing_path(org_id))
    edit_response = await billing_client.patch(billing_path(org_id), json={"plan": "pro"})

    assert (read_response.status_code, edit_response.status_code) == (401, 401)


@pytest.mark.parametrize("path_id", ["not-an-id", "6650C0D2F1A4B8E9C3D2A1AF", "6650c0d2f1a4"])
async def test_an_invalid_organization_id_in_the_path_is_404(
    billing_client: AsyncClient, owner: dict[str, str], path_id: str
) -> None:
    read_response = await billing_client.get(billing_path(path_id), headers=owner)
    edit_response = await billing_client.patch(
        billing_path(path_id), json={"plan": "pro"}, headers=owner
    )

    assert (read_response.status_code, edit_response.status_code) == (404, 404)


# --- Changing details ----------------------------------------------------------------------


async def test_every_field_can_be_set_and_is_stored_on_the_organization(
    billing_client: AsyncClient, store: Store, org_id: str, owner: dict[str, str]
) -> None:
    changed = await patch(billing_client, org_id, owner, EVERYTHING)

    assert changed == {**EVERYTHING, "member_limit": 50}
    assert await read(billing_client, org_id, owner) == changed
    document = await store.master[ORGANIZATIONS].find_one({"_id": ObjectId(org_id)})
    assert document is not None
    assert document["plan"] == "pro"
    assert document["billing"] == {key: value for key, value in EVERYTHING.items() if key != "plan"}


async def test_a_partial_update_changes_only_the_fields_sent(
    billing_client: AsyncClient, org_id: str, owner: dict[str, str]
) -> None:
    await patch(billing_client, org_id, owner, EVERYTHING)

    changed = await patch(billing_client, org_id, owner, {"billing_email": "ap@techcorp.com"})

    assert changed == {**EVERYTHING, "member_limit": 50, "billing_email": "ap@techcorp.com"}


async def test_an_address_is_replaced_whole_and_unsent_optional_parts_are_null(
    billing_client: AsyncClient, store: Store, org_id: str, owner: dict[str, str]
) -> None:
    await patch(billing_client, org_id, owner, EVERYTHING)

    changed = await patch(billing_client, org_id, owner, {"billing_address": ADDRESS})

    assert changed["billing_address"] == {**ADDRESS, "line2": None, "region": None}
    document = await store.master[ORGANIZATIONS].find_one({"_id": ObjectId(org_id)})
    assert document is not None
    assert document["billing"]["billing_address"] == ADDRESS


async def test_null_clears_an_optional_field_and_leaves_the_others(
    billing_client: AsyncClient, store: Store, org_id: str, owner: dict[str, str]
) -> None:
    await patch(billing_client, org_id, owner, EVERYTHING)

    changed = await patch(
        billing_client,
        org_id,
        owner,
        {"stripe_customer_id": None, "billing_address": None, "billing_email": None},
    )

    assert changed == {
        **EVERYTHING,
        "member_limit": 50,
        "stripe_customer_id": None,
        "billing_address": None,
        "billing_email": None,
    }
    document = await store.master[ORGANIZATIONS].find_one({"_id": ObjectId(org_id)})
    assert document is not None
    assert document["billing"] == {"lago_customer_id": EVERYTHING["lago_customer_id"]}


async def test_an_empty_body_changes_nothing(
    billing_client: AsyncClient, org_id: str, owner: dict[str, str]
) -> None:
    await patch(billing_client, org_id, owner, EVERYTHING)

    unchanged = await patch(billing_client, org_id, owner, {})

    assert unchanged == {**EVERYTHING, "member_limit": 50}


async def test_surrounding_whitespace_is_dropped_from_the_address(
    billing_client: AsyncClient, org_id: str, owner: dict[str, str]
) -> None:
    padded = {**ADDRESS, "line1": "  Friedrichstraße 68 ", "city": "\tBerlin"}

    changed = await patch(billing_client, org_id, owner, {"billing_address": padded})

    assert changed["billing_address"]["line1"] == "Friedrichstraße 68"
    assert changed["billing_address"]["city"] == "Berlin"


# --- Validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"billing_address": {**ADDRESS, "country": "XX"}}, "country"),
        ({"billing_address": {**ADDRESS, "country": "de"}}, "country"),
        ({"billing_address": {**ADDRESS, "country": "DEU"}}, "country"),
        ({"billing_address": {**ADDRESS, "line1": "x" * 201}}, "line1"),
        ({"billing_address": {**ADDRESS, "line1": "   "}}, "line1"),
        ({"billing_address": {**ADDRESS, "city": "x" * 101}}, "city"),
        ({"billing_address": {**ADDRESS, "postal_code": "1" * 21}}, "postal_code"),
        ({"billing_address": {**ADDRESS, "region": "x" * 101}}, "region"),
        ({"billing_address": {**ADDRESS, "floor": 3}}, "floor"),
        ({"billing_address": {"line1": "Friedrichstraße 68", "country": "DE"}}, "city"),
        ({"stripe_customer_id": "cust_123"}, "stripe_customer_id"),
        ({"stripe_customer_id": "cus_"}, "stripe_customer_id"),
        ({"stripe_customer_id": "cus_" + "a" * 65}, "stripe_customer_id"),
        ({"stripe_customer_id": "cus_abc\n"}, "stripe_customer_id"),
        ({"lago_customer_id": ""}, "lago_customer_id"),
        ({"lago_customer_id": "has space"}, "lago_customer_id"),
        ({"lago_customer_id": "x" * 129}, "lago_customer_id"),
        ({"billing_email": "not-an-email"}, "billing_email"),
        ({"plan": "gold"}, "plan"),
        ({"plan": None}, "plan"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_invalid_input_is_400_naming_the_field_and_changes_nothing(
    billing_client: AsyncClient,
    org_id: str,
    owner: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    response = await billing_client.patch(billing_path(org_id), json=body, headers=owner)

    assert field in field_errors(response)
    assert await read(billing_client, org_id, owner) == UNSET


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "pro",
        42,
        {"plan": {"$ne": None}},
        {"billing_address": "Friedrichstraße 68"},
        {"billing_address": {**ADDRESS, "country": {"$regex": ".*"}}},
        {"billing_email": "\x00@example.com"},
        {"stripe_customer_id": ["cus_abc"]},
        {"lago_customer_id": "x" * 100_000},
    ],
)
async def test_odd_bodies_are_400_never_a_server_error(
    billing_client: AsyncClient, org_id: str, owner: dict[str, str], body: object
) -> None:
    response = await billing_client.patch(billing_path(org_id), json=body, headers=owner)

    assert response.status_code == 400, response.text
    assert await read(billing_client, org_id, owner) == UNSET


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stripe_customer_id", "cus_" + "a" * 64),
        ("lago_customer_id", "A-z_0" * 25 + "abc"),
    ],
)
async def test_identifiers_at_their_longest_are_accepted(
    billing_client: AsyncClient, org_id: str, owner: dict[str, str], field: str, value: str
) -> None:
    changed = await patch(billing_client, org_id, owner, {field: value})

    assert changed[field] == value


# --- Plan limits ---------------------------------------------------------------------------


async def test_a_plan_below_the_member_count_is_409_and_the_plan_stays(
    billing_client: AsyncClient, store: Store, org_id: str, owner: dict[str, str]
) -> None:
    await patch(billing_client, org_id, owner, {"plan": "pro"})
    await add_members(store, org_id, 5)  # six members with the owner; free allows five

    response = await billing_client.patch(
        billing_path(org_id),
        json={"plan": "free", "billing_email": "ap@techcorp.com"},
        headers=owner,
    )

    assert response.status_code == 409, response.text
    assert "6 members" in response.json()["detail"]
    billing = await read(billing_client, org_id, owner)
    assert (billing["plan"], billing["billing_email"]) == ("pro", None)


async def test_pending_invitations_count_towards_the_limit(
    billing_client: AsyncClient, store: Store, org_id: str, owner: dict[str, str]
) -> None:
    await patch(billing_client, org_id, owner, {"plan": "pro"})
    await add_members(store, org_id, 3)
    await store.master[INVITATIONS].insert_many(
        [
            {
                "organization_id": ObjectId(org_id),
                "status": "pending",
                "email": "a@x.example",
                "expires_at": LATER,
            },
            {
                "organization_id": ObjectId(org_id),
                "status": "pending",
                "email": "b@x.example",
                "expires_at": LATER,
            },
        ]
    )

    response = await billing_client.patch(
        billing_path(org_id), json={"plan": "free"}, headers=owner
    )

    assert response.status_code == 409, response.text
    assert "2 pending invitations" in response.json()["detail"]


async def test_a_plan_exactly_at_the_limit_is_accepted_and_answered_invitations_do_not_count(
    billing_client: AsyncClient, store: Store, org_id: str, owner: dict[str, str]
) -> None:
    await patch(billing_client, org_id, owner, {"plan": "pro"})
    await add_members(store, org_id, 3)
    other_org = ObjectId()
    await store.master[INVITATIONS].insert_many(
        [
            {
                "organization_id": ObjectId(org_id),
                "status": "pending",
                "email": "a@x.example",
                "expires_at": LATER,
            },
            {"organization_id": ObjectId(org_id), "status": "accepted", "email": "b@x.example"},
            {"organization_id": ObjectId(org_id), "status": "revoked", "email": "c@x.example"},
            {"organization_id": other_org, "status": "pending", "email": "d@x.example"},
        ]
    )

    changed = await patch(billing_client, org_id, owner, {"plan": "free"})

    assert (changed["plan"], changed["member_limit"]) == ("free", 5)


async def test_an_unlimited_plan_takes_any_number_of_members(
    billing_client: AsyncClient, store: Store, org_id: str, owner: dict[str, str]
) -> None:
    await patch(billing_client, org_id, owner, {"plan": "pro"})
    await add_members(store, org_id, 5)

    changed = await patch(billing_client, org_id, owner, {"plan": "enterprise"})

    assert (changed["plan"], changed["member_limit"]) == ("enterprise", None)


async def test_confirming_the_current_plan_is_accepted_even_over_its_limit(
    billing_client: AsyncClient, store: Store, org_id: str, owner: dict[str, str]
) -> None:
    # Over the free limit without ever changing plan, as a lowered PLAN_MEMBER_LIMITS leaves it.
    await add_members(store, org_id, 5)

    changed = await patch(
        billing_client, org_id, owner, {"plan": "free", "billing_email": "ap@techcorp.com"}
    )

    assert (changed["plan"], changed["billing_email"]) == ("free", "ap@techcorp.com")


# --- Suspension ----------------------------------------------------------------------------


async def test_a_suspended_organization_refuses_changes_with_423_but_can_be_read(
    billing_client: AsyncClient, store: Store, org_id: str, owner: dict[str, str]
) -> None:
    await OrganizationRepository(store).set_status(ObjectId(org_id), Status.SUSPENDED)

    response = await billing_client.patch(
        billing_path(org_id), json={"billing_email": "ap@techcorp.com"}, headers=owner
    )

    assert response.status_code == 423, response.text
    assert await read(billing_client, org_id, owner) == UNSET
    await OrganizationRepository(store).set_status(ObjectId(org_id), Status.ACTIVE)
    await patch(billing_client, org_id, owner, {"billing_email": "ap@techcorp.com"})


# --- Documentation -------------------------------------------------------------------------


async def test_the_endpoints_document_who_may_call_them_and_their_errors(
    billing_client: AsyncClient,
) -> None:
    schema = (await billing_client.get("/openapi.json")).json()
    operations = schema["paths"][BILLING_PREFIX]

    assert "owner, admin, billing_admin" in operations["get"]["description"]
    assert "owner, billing_admin" in operations["patch"]["description"]
    assert set(operations["patch"]["responses"]) == {
        "200",
        "400",
        "401",
        "403",
        "404",
        "409",
        "412",
        "423",
        "429",  # an API key over its rate
    }


async def test_a_plan_typed_in_by_hand_reads_as_the_default_for_billing_and_invitations(
    settings: Settings, store: Store
) -> None:
    tight = settings.model_copy(
        update={"plan_member_limits": {Plan.FREE: 2, Plan.PRO: 50, Plan.ENTERPRISE: 0}}
    )
    async with serving(tight, store) as client:
        org_id = (await created_org(client))["id"]
        owner = bearer(await login(client))
        await store.master[ORGANIZATIONS].update_one(
            {"_id": ObjectId(org_id)}, {"$set": {"plan": "gold"}}
        )
        invitations = f"/api/v1/organizations/{org_id}/invitations"

        billing = await read(client, org_id, owner)
        first = await client.post(
            invitations, json={"email": "one@techcorp.com", "role": "member"}, headers=owner
        )
        second = await client.post(
            invitations, json={"email": "two@techcorp.com", "role": "member"}, headers=owner
        )

    assert (billing["plan"], billing["member_limit"]) == ("free", 2)
    assert first.status_code == 201, first.text
    assert second.status_code == 409
