"""`make_owner` and `reset_password`: their outcomes, and the accounts and memberships left."""

from typing import Any

import bcrypt
import pytest
from bson import ObjectId
from httpx import AsyncClient

from app.access.roles import Role
from app.config import Settings
from app.db.schema import ACCOUNTS, MEMBERSHIPS
from app.db.store import Document, Store
from app.operations.accounts import OwnerOutcome, make_owner, reset_password
from app.operations.errors import UnacceptableInput, UnknownAccount
from app.operations.verify import Problem, verify
from app.registry.errors import OrganizationNotFound
from tests.operations.registry_edits import edit_entry, registry_entry
from tests.support import EMAIL, NAME, PASSWORD, add_account, bearer, created_org, login

NEW_PASSWORD = "Correct Horse Battery"


class Typed:
    """A password source that counts how often it was asked."""

    def __init__(self, password: str = NEW_PASSWORD) -> None:
        self.password = password
        self.asked = 0

    def __call__(self) -> str:
        self.asked += 1
        return self.password


async def account(store: Store, email: str) -> Document:
    found = await store.master[ACCOUNTS].find_one({"email": email})
    assert found is not None
    return found


async def role_of(store: Store, email: str, organization: dict[str, Any]) -> str | None:
    membership = await store.master[MEMBERSHIPS].find_one(
        {
            "account_id": (await account(store, email))["_id"],
            "organization_id": ObjectId(organization["id"]),
        }
    )
    return None if membership is None else str(membership["role"])


async def owner_count(store: Store, organization: dict[str, Any]) -> int:
    count: int = (await registry_entry(store, organization["id"]))["owner_count"]
    return count


async def test_make_owner_creates_an_account_that_can_log_in(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    password = Typed()

    outcome = await make_owner(store, settings, NAME, "second@techcorp.com", password)

    assert outcome == OwnerOutcome(NAME, "second@techcorp.com", True, None)
    assert password.asked == 1
    assert await role_of(store, "second@techcorp.com", organization) == "owner"
    assert await owner_count(store, organization) == 2
    stored = await account(store, "second@techcorp.com")
    assert bcrypt.checkpw(NEW_PASSWORD.encode(), stored["password_hash"].encode())
    assert stored["organization_id"] == ObjectId(organization["id"])
    response = await client.post(
        "/admin/login", json={"email": "second@techcorp.com", "password": NEW_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert (await verify(store)).clean


async def test_make_owner_promotes_a_member_without_asking_for_a_password(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    await add_account(store, organization["id"], "dev@techcorp.com", Role.MEMBER)
    password = Typed()

    outcome = await make_owner(store, settings, organization["id"], "DEV@techcorp.com", password)

    assert outcome == OwnerOutcome(NAME, "dev@techcorp.com", False, Role.MEMBER)
    assert password.asked == 0
    assert await role_of(store, "dev@techcorp.com", organization) == "owner"
    assert await owner_count(store, organization) == 2
    assert (await verify(store)).clean


async def test_make_owner_leaves_an_owner_alone(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    before = await account(store, EMAIL)

    outcome = await make_owner(store, settings, NAME, EMAIL, Typed())

    assert outcome == OwnerOutcome(NAME, EMAIL, False, Role.OWNER)
    assert await owner_count(store, organization) == 1
    assert await account(store, EMAIL) == before


async def test_make_owner_adds_an_account_of_another_organization(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    await created_org(client, "Other Org", "boss@other.example")
    password = Typed()

    outcome = await make_owner(store, settings, NAME, "boss@other.example", password)

    assert outcome == OwnerOutcome(NAME, "boss@other.example", False, None)
    assert password.asked == 0
    assert await role_of(store, "boss@other.example", organization) == "owner"
    assert await owner_count(store, organization) == 2


async def test_an_organization_that_lost_its_owners_gets_one_back_as_admin(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    await store.master[MEMBERSHIPS].delete_many({"organization_id": ObjectId(organization["id"])})
    await edit_entry(store, organization["id"], {"$set": {"owner_count": 7}})

    outcome = await make_owner(store, settings, NAME, "rescue@example.com", Typed())

    assert outcome.account_created
    entry = await registry_entry(store, organization["id"])
    assert entry["owner_count"] == 1
    assert entry["admin_id"] == (await account(store, "rescue@example.com"))["_id"]
    # The old owner's account is left for an operator; the organization itself is settled.
    assert [f.problem for f in (await verify(store)).findings] == [Problem.LONELY_ACCOUNT]


@pytest.mark.parametrize(
    ("email", "password", "problem"),
    [
        ("not-an-email", NEW_PASSWORD, "'not-an-email' is not a valid email address"),
        ("new@example.com", "short", "The password must be at least 8 bytes long"),
    ],
)
async def test_make_owner_refuses_bad_input_and_creates_nothing(
    client: AsyncClient,
    store: Store,
    settings: Settings,
    email: str,
    password: str,
    problem: str,
) -> None:
    organization = await created_org(client)

    with pytest.raises(UnacceptableInput) as refused:
        await make_owner(store, settings, NAME, email, Typed(password))

    assert problem in refused.value.message
    assert await store.master[ACCOUNTS].count_documents({}) == 1
    assert await owner_count(store, organization) == 1


@pytest.mark.parametrize("state", ["provisioning", "deleting"])
async def test_make_owner_refuses_an_organization_being_created_or_deleted(
    client: AsyncClient, store: Store, settings: Settings, state: str
) -> None:
    organization = await created_org(client)
    await edit_entry(store, organization["id"], {"$set": {"state": state}})

    with pytest.raises(UnacceptableInput) as refused:
        await make_owner(store, settings, NAME, "new@example.com", Typed())

    assert f"is {state}" in refused.value.message
    assert await store.master[ACCOUNTS].find_one({"email": "new@example.com"}) is None


async def test_make_owner_of_an_unknown_organization(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await created_org(client)

    with pytest.raises(OrganizationNotFound):
        await make_owner(store, settings, "Nobody Inc", "new@example.com", Typed())


async def test_reset_password_changes_it_and_refuses_older_tokens(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await created_org(client)
    token = await login(client)

    email = await reset_password(store, settings, EMAIL.upper(), Typed())

    assert email == EMAIL
    stored = (await account(store, EMAIL))["password_hash"]
    assert bcrypt.checkpw(NEW_PASSWORD.encode(), stored.encode())
    assert not bcrypt.checkpw(PASSWORD.encode(), stored.encode())
    assert (await client.get("/admin/me", headers=bearer(token))).status_code == 401
    assert await login(client, EMAIL, NEW_PASSWORD)


async def test_reset_password_refuses_a_weak_password_and_keeps_the_old_one(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await created_org(client)
    before = await account(store, EMAIL)

    with pytest.raises(UnacceptableInput):
        await reset_password(store, settings, EMAIL, Typed("short"))

    assert await account(store, EMAIL) == before


async def test_reset_password_of_an_unknown_account(store: Store, settings: Settings) -> None:
    password = Typed()

    with pytest.raises(UnknownAccount) as refused:
        await reset_password(store, settings, "ghost@example.com", password)

    assert "ghost@example.com" in refused.value.message
    assert password.asked == 0
