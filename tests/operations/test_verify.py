"""`verify`: what it reports on a healthy store, and each kind of damage it recognizes."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from httpx import AsyncClient
from pymongo.errors import ConnectionFailure

from app.access.roles import Role
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.config import Settings
from app.db.schema import IDENTIFIER_CLAIMS, MEMBERSHIPS
from app.db.store import Store, TenantNamespace
from app.operations.placement import move_organization
from app.operations.verify import Problem, describe_duration, verify
from app.registry.models import LifecycleState
from tests.crash import Crash, dying_store
from tests.operations.registry_edits import LONG_AGO, edit_entry
from tests.support import NAME, add_account, created_org, delete, login, rename, tenants

Damage = Callable[[Store, dict[str, Any]], Awaitable[None]]


async def seeded(client: AsyncClient) -> dict[str, Any]:
    """The organization a test damages, beside one it leaves alone."""
    await created_org(client, "Bystander", "owner@bystander.example")
    return await created_org(client)


def namespace(store: Store, organization: dict[str, Any]) -> TenantNamespace:
    return TenantNamespace(store.default_tenant_db, organization["tenant_collection"])


async def unfinished_delete(store: Store, org: dict[str, Any]) -> None:
    await edit_entry(store, org["id"], {"$set": {"state": "deleting", "modified_at": LONG_AGO}})


async def orphan_claim(store: Store, org: dict[str, Any]) -> None:
    claim = {"_id": "zombie-corp", "organization_id": ObjectId(), "claimed_at": LONG_AGO}
    await store.master[IDENTIFIER_CLAIMS].insert_one(claim)


async def missing_claim(store: Store, org: dict[str, Any]) -> None:
    await store.master[IDENTIFIER_CLAIMS].delete_one({"_id": org["organization_identifier"]})


async def missing_collection(store: Store, org: dict[str, Any]) -> None:
    await tenants(store).drop_collection(org["tenant_collection"])


async def orphan_collection(store: Store, org: dict[str, Any]) -> None:
    await tenants(store)["tenant_ghost"].insert_many([{"n": n} for n in range(3)])


async def name_mismatch(store: Store, org: dict[str, Any]) -> None:
    await edit_entry(store, org["id"], {"$set": {"name": "Something Else"}})


async def owner_count_off(store: Store, org: dict[str, Any]) -> None:
    await edit_entry(store, org["id"], {"$set": {"owner_count": 3}})


async def no_owner(store: Store, org: dict[str, Any]) -> None:
    await store.master[MEMBERSHIPS].update_many(
        {"organization_id": ObjectId(org["id"])}, {"$set": {"role": Role.ADMIN.value}}
    )


async def lonely_account(store: Store, org: dict[str, Any]) -> None:
    account = Account(
        id=ObjectId(),
        email="stray@example.com",
        password_hash="$2b$04$" + "x" * 53,
        organization_id=ObjectId(org["id"]),
        created_at=datetime.now(UTC),
    )
    await AccountRepository(store).insert(account)


async def damaged_entry(store: Store, org: dict[str, Any]) -> None:
    await edit_entry(store, org["id"], {"$unset": {"admin_id": ""}})


async def unknown_state(store: Store, org: dict[str, Any]) -> None:
    await edit_entry(store, org["id"], {"$set": {"state": "exploded"}})


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (unfinished_delete, [Problem.UNFINISHED_OPERATION]),
        (orphan_claim, [Problem.ORPHAN_CLAIM]),
        (missing_claim, [Problem.MISSING_CLAIM]),
        (missing_collection, [Problem.MISSING_COLLECTION]),
        (orphan_collection, [Problem.ORPHAN_COLLECTION]),
        (name_mismatch, [Problem.NAME_MISMATCH]),
        (owner_count_off, [Problem.OWNER_COUNT]),
        (no_owner, [Problem.NO_OWNER]),
        (lonely_account, [Problem.LONELY_ACCOUNT]),
        (damaged_entry, [Problem.DAMAGED_ENTRY]),
        (unknown_state, [Problem.DAMAGED_ENTRY]),
    ],
)
async def test_each_kind_of_damage_is_reported_and_nothing_else(
    client: AsyncClient, store: Store, damage: Damage, expected: list[Problem]
) -> None:
    organization = await seeded(client)
    assert (await verify(store)).clean

    await damage(store, organization)
    report = await verify(store)

    assert [finding.problem for finding in report.findings] == expected
    assert not report.clean
    assert all("Bystander" not in finding.subject for finding in report.findings)


async def test_a_healthy_store_reports_nothing(client: AsyncClient, store: Store) -> None:
    for number in range(3):
        await created_org(client, f"Org {number}", f"owner{number}@example.com")
    token = await login(client, "owner0@example.com")
    assert (await rename(client, token, "Org Zero", email="owner0@example.com")).status_code == 200
    await tenants(store)["tenant_org_zero"].insert_many([{"n": n} for n in range(5)])
    await created_org(client)
    assert (await delete(client, await login(client))).status_code == 200
    with_member = await created_org(client, "Org 9", "o9@example.com")
    await add_account(store, with_member["id"], "member@example.com", Role.MEMBER)

    report = await verify(store)

    assert report.findings == []
    assert report.clean
    assert (report.organizations, report.collections, report.claims) == (4, 4, 4)


async def test_an_unfinished_operation_says_which_and_how_long_ago(
    client: AsyncClient, store: Store
) -> None:
    organization = await seeded(client)
    await unfinished_delete(store, organization)

    (finding,) = (await verify(store)).of(Problem.UNFINISHED_OPERATION)

    assert finding.state is LifecycleState.DELETING
    assert finding.organization_id == ObjectId(organization["id"])
    assert finding.collection == namespace(store, organization)
    assert finding.age is not None
    assert finding.age >= timedelta(hours=3)
    assert "state deleting for 3 h" in finding.detail


async def test_an_orphan_claim_names_its_leftover_collection(
    client: AsyncClient, store: Store
) -> None:
    await seeded(client)
    holder = ObjectId()
    claim = {"_id": "zombie-corp", "organization_id": holder, "claimed_at": LONG_AGO}
    await store.master[IDENTIFIER_CLAIMS].insert_one(claim)
    await tenants(store)["tenant_zombie_corp"].insert_many([{"n": 1}, {"n": 2}])

    report = await verify(store)

    (finding,) = report.of(Problem.ORPHAN_CLAIM)
    assert (finding.identifier, finding.organization_id) == ("zombie-corp", holder)
    assert finding.collection == TenantNamespace(store.default_tenant_db, "tenant_zombie_corp")
    assert finding.count == 2
    assert not finding.collection_in_use
    assert finding.age is not None
    assert finding.age >= timedelta(hours=3)
    # The leftover collection is reported too, since no organization points to it.
    (orphan,) = report.of(Problem.ORPHAN_COLLECTION)
    assert orphan.count == 2


async def test_a_claim_on_the_collection_an_organization_uses_is_marked_in_use(
    client: AsyncClient, store: Store
) -> None:
    organization = await seeded(client)
    await edit_entry(store, organization["id"], {"$set": {"identifier": "something-else"}})

    report = await verify(store)

    (claim,) = report.of(Problem.ORPHAN_CLAIM)
    assert claim.identifier == organization["organization_identifier"]
    assert claim.collection_in_use
    (missing,) = report.of(Problem.MISSING_CLAIM)
    assert missing.identifier == "something-else"
    mismatched = report.of(Problem.NAME_MISMATCH)
    assert {finding.detail.split(" ")[0] for finding in mismatched} == {
        "identifier",
        "tenant_collection",
    }


@pytest.mark.parametrize(
    ("damage", "problem", "fields"),
    [
        (missing_claim, Problem.MISSING_CLAIM, {"identifier": "tech-innovations-corp"}),
        (owner_count_off, Problem.OWNER_COUNT, {"count": 1, "recorded": 3}),
        (orphan_collection, Problem.ORPHAN_COLLECTION, {"count": 3, "organization_id": None}),
        (missing_collection, Problem.MISSING_COLLECTION, {"count": None}),
    ],
)
async def test_findings_carry_what_repair_needs(
    client: AsyncClient,
    store: Store,
    damage: Damage,
    problem: Problem,
    fields: dict[str, object],
) -> None:
    organization = await seeded(client)
    await damage(store, organization)

    (finding,) = (await verify(store)).of(problem)

    for name, value in fields.items():
        assert getattr(finding, name) == value, name
    if problem is Problem.MISSING_COLLECTION:
        assert finding.collection == namespace(store, organization)
        assert finding.organization_id == ObjectId(organization["id"])


async def test_a_damaged_entry_keeps_its_claim_and_collection_from_being_reported(
    client: AsyncClient, store: Store
) -> None:
    organization = await seeded(client)
    await damaged_entry(store, organization)

    (finding,) = (await verify(store)).findings

    assert finding.problem is Problem.DAMAGED_ENTRY
    assert finding.organization_id == ObjectId(organization["id"])
    assert finding.subject.startswith(f"{organization['id']} ({NAME})")


@pytest.mark.parametrize("step", ["move.copied", "move.switched"])
async def test_neither_end_of_a_move_in_flight_is_an_orphan(
    client: AsyncClient, store: Store, settings: Settings, step: str
) -> None:
    await created_org(client)
    await tenants(store)["tenant_tech_innovations_corp"].insert_many([{"n": 1}, {"n": 2}])
    crash = Crash(step)
    with pytest.raises(ConnectionFailure):
        await move_organization(
            dying_store(store, crash),
            settings,
            NAME,
            f"{store.default_tenant_db}_dedicated",
            checkpoint=crash.checkpoint,
        )

    report = await verify(store)

    assert [finding.problem for finding in report.findings] == [Problem.UNFINISHED_OPERATION]
    assert report.findings[0].state is LifecycleState.MOVING


@pytest.mark.parametrize(
    ("age", "described"),
    [
        (None, "?"),
        (timedelta(seconds=-5), "0 s"),
        (timedelta(seconds=59), "59 s"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(hours=2, minutes=59), "2 h"),
        (timedelta(days=3, hours=5), "3 d"),
    ],
)
def test_durations_are_described_in_their_largest_unit(
    age: timedelta | None, described: str
) -> None:
    assert describe_duration(age) == described
