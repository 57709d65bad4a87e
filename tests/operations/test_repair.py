"""`plan_repair` and `repair`: the plan changes nothing; repair settles what it may and never
loses a tenant document it was not told to drop."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from httpx import AsyncClient
from pymongo.errors import ConnectionFailure

from app.config import Settings
from app.db.schema import ACCOUNTS, IDENTIFIER_CLAIMS, MEMBERSHIPS, ORGANIZATIONS
from app.db.store import Store
from app.operations.placement import move_organization
from app.operations.repair import Step, plan_repair, repair
from app.operations.verify import Problem, verify
from tests.crash import Crash, dying_store
from tests.operations.registry_edits import (
    LONG_AGO,
    claim_ids,
    edit_entry,
    registry_entry,
    snapshot,
)
from tests.support import EMAIL, NAME, assert_consistent, created_org, tenants

DEDICATED = "tenantry_tenants_dedicated"


class Announcements(list[str]):
    def __call__(self, message: str) -> None:
        self.append(message)


async def tenant_ids(store: Store) -> dict[str, set[object]]:
    """The `_id`s in each collection of the default tenant database."""
    database = tenants(store)
    return {
        name: set(await database[name].distinct("_id"))
        for name in await database.list_collection_names()
    }


def label(organization: dict[str, Any]) -> str:
    """How `verify` names an organization."""
    return f"{organization['organization_name']} ({organization['id']})"


def recovered(organization: dict[str, Any]) -> str:
    """How the service's recovery names an organization it settled."""
    return f"{organization['id']} ({organization['organization_name']})"


async def break_everything(client: AsyncClient, store: Store) -> dict[str, dict[str, Any]]:
    """Organizations created through the API, then damaged as a crash or a hand edit can."""
    orgs = {
        name: await created_org(client, name, f"owner@{name.lower()}.example")
        for name in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon")
    }
    # Alpha's collection disappeared.
    await tenants(store).drop_collection(orgs["Alpha"]["tenant_collection"])
    # Beta's delete and Epsilon's create died half way, long ago.
    for name, state in (("Beta", "deleting"), ("Epsilon", "provisioning")):
        await edit_entry(
            store, orgs[name]["id"], {"$set": {"state": state, "modified_at": LONG_AGO}}
        )
    # Gamma's rename to "Gamma Two" died after claiming the new identifier.
    await tenants(store)["tenant_gamma"].insert_many([{"n": n} for n in range(4)])
    target = {
        "name": "Gamma Two",
        "name_key": "gamma two",
        "identifier": "gamma-two",
        "tenant_collection": "tenant_gamma_two",
        "copying": False,
    }
    await edit_entry(
        store,
        orgs["Gamma"]["id"],
        {"$set": {"state": "renaming", "pending_rename": target, "modified_at": LONG_AGO}},
    )
    claims = store.master[IDENTIFIER_CLAIMS]
    gamma = ObjectId(orgs["Gamma"]["id"])
    await claims.insert_one({"_id": "gamma-two", "organization_id": gamma, "claimed_at": LONG_AGO})
    # A claim nobody accounts for, and two collections nobody points to.
    zombie = {"_id": "zombie-corp", "organization_id": ObjectId(), "claimed_at": LONG_AGO}
    await claims.insert_one(zombie)
    await tenants(store).create_collection("tenant_ghost_empty")
    await tenants(store)["tenant_ghost_full"].insert_many([{"kept": n} for n in range(3)])
    await tenants(store)["tenant_delta"].insert_many([{"delta": n} for n in range(2)])
    return orgs


def ghost(store: Store, name: str) -> str:
    return f"{store.default_tenant_db}.tenant_ghost_{name}"


async def test_the_plan_has_a_step_for_every_finding_and_changes_nothing(
    client: AsyncClient, store: Store
) -> None:
    orgs = await break_everything(client, store)
    before = await snapshot(store)

    report = await verify(store)
    plan = plan_repair(report, force=False, grace=timedelta(minutes=5))
    forced = plan_repair(report, force=True, grace=timedelta(minutes=5))

    assert await snapshot(store) == before
    assert len(plan) == len(report.findings) == 7
    actions = {step.subject: step.action for step in plan}
    assert actions == {
        label(orgs["Alpha"]): "create collection",
        label(orgs["Beta"]): "settle",
        label(orgs["Gamma"]): "settle",
        label(orgs["Epsilon"]): "settle",
        "zombie-corp": "release claim",
        ghost(store, "empty"): "drop empty collection",
        ghost(store, "full"): "keep",
    }
    details = {step.subject: step.detail for step in plan}
    assert details[label(orgs["Epsilon"])].startswith("roll the create back")
    assert details[label(orgs["Beta"])].startswith("finish the delete")
    assert details[label(orgs["Gamma"])].startswith("finish the rename")
    assert {step.subject: step.action for step in forced}[ghost(store, "full")] == (
        "drop collection WITH documents"
    )
    assert [step for step in forced if step.subject != ghost(store, "full")] == [
        step for step in plan if step.subject != ghost(store, "full")
    ]


async def test_the_plan_warns_about_an_operation_younger_than_the_grace_period(
    client: AsyncClient, store: Store
) -> None:
    organization = await created_org(client)
    recent = datetime.now(UTC) - timedelta(minutes=1)
    await edit_entry(
        store, organization["id"], {"$set": {"state": "deleting", "modified_at": recent}}
    )
    report = await verify(store)

    (patient,) = plan_repair(report, force=False, grace=timedelta(hours=1))
    (eager,) = plan_repair(report, force=False, grace=timedelta(0))

    assert patient.action == eager.action == "settle"
    assert "make sure no service instance is still running it" in patient.detail
    assert "make sure" not in eager.detail


async def test_repair_settles_findings_and_keeps_every_tenant_document(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    orgs = await break_everything(client, store)
    documents_before = await tenant_ids(store)
    said = Announcements()

    outcome = await repair(store, settings, force=False, announce=said)

    done = {(step.action, step.subject) for step in outcome.done}
    assert done == {
        ("settled", recovered(orgs["Beta"])),
        ("settled", recovered(orgs["Gamma"])),
        ("settled", recovered(orgs["Epsilon"])),
        ("released claim", "zombie-corp"),
        ("created collection", label(orgs["Alpha"])),
        ("dropped empty collection", ghost(store, "empty")),
    }
    assert len(said) == len(outcome.done)
    # Only the collection holding documents is left, and it is left for an operator.
    assert outcome.final is not None
    assert [f.problem for f in outcome.final.findings] == [Problem.ORPHAN_COLLECTION]
    assert outcome.left == [
        Step(
            "keep",
            ghost(store, "full"),
            "holds 3 document(s); inspect it, then rerun with --force to drop it",
        )
    ]
    documents_after = await tenant_ids(store)
    assert documents_after["tenant_gamma_two"] == documents_before["tenant_gamma"]
    assert documents_after["tenant_ghost_full"] == documents_before["tenant_ghost_full"]
    assert documents_after["tenant_delta"] == documents_before["tenant_delta"]
    assert documents_after["tenant_alpha"] == set()
    assert set(documents_after) == {
        "tenant_alpha",
        "tenant_delta",
        "tenant_gamma_two",
        "tenant_ghost_full",
    }
    # The unfinished delete and create are gone with their accounts and memberships.
    for name in ("Beta", "Epsilon"):
        organization_id = ObjectId(orgs[name]["id"])
        assert await store.master[ORGANIZATIONS].find_one({"_id": organization_id}) is None
        assert not await store.master[MEMBERSHIPS].count_documents(
            {"organization_id": organization_id}
        )
        email = orgs[name]["admin_email"]
        assert await store.master[ACCOUNTS].find_one({"email": email}) is None
    gamma = await registry_entry(store, orgs["Gamma"]["id"])
    assert (gamma["state"], gamma["name"]) == ("active", "Gamma Two")
    assert await claim_ids(store) == ["alpha", "delta", "gamma-two"]


async def test_repair_with_force_drops_an_orphan_with_documents_and_says_so(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await break_everything(client, store)
    said = Announcements()

    outcome = await repair(store, settings, force=True, announce=said)

    assert ("dropped with documents", ghost(store, "full"), "3 document(s) removed") in [
        (step.action, step.subject, step.detail) for step in outcome.done
    ]
    assert any(message.startswith("--force given: dropping orphan") for message in said)
    assert outcome.final is not None
    assert outcome.final.clean
    assert outcome.left == []
    assert "tenant_ghost_full" not in await tenants(store).list_collection_names()
    await assert_consistent(store)


async def test_repair_on_a_healthy_store_does_nothing(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await created_org(client)
    await tenants(store)["tenant_tech_innovations_corp"].insert_one({"kept": True})
    await created_org(client, "Empty One", "empty@example.com")
    before = await snapshot(store)
    said = Announcements()

    outcome = await repair(store, settings, force=True, announce=said)

    assert (outcome.done, outcome.left, said) == ([], [], [])
    assert outcome.final is not None
    assert outcome.final.clean
    assert await snapshot(store) == before


async def test_repair_corrects_the_owner_count_and_takes_a_missing_claim_again(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    await edit_entry(store, organization["id"], {"$set": {"owner_count": 3}})
    await store.master[IDENTIFIER_CLAIMS].delete_many({})

    outcome = await repair(store, settings, force=False, announce=Announcements())

    assert sorted((step.action, step.detail) for step in outcome.done) == [
        ("claimed", "tech-innovations-corp"),
        ("corrected owner count", "owner_count = 1"),
    ]
    assert (await registry_entry(store, organization["id"]))["owner_count"] == 1
    claim = await store.master[IDENTIFIER_CLAIMS].find_one({"_id": "tech-innovations-corp"})
    assert claim is not None
    assert claim["organization_id"] == ObjectId(organization["id"])
    assert outcome.final is not None
    assert outcome.final.clean


async def test_what_needs_a_human_is_left_with_a_hint(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    await store.master[MEMBERSHIPS].delete_many({})
    before = await snapshot(store)

    outcome = await repair(store, settings, force=True, announce=Announcements())

    assert outcome.done == []
    assert sorted(step.subject for step in outcome.left) == [label(organization), EMAIL]
    assert all(step.action == "needs an operator" for step in outcome.left)
    assert all("accounts create-owner" in step.detail for step in outcome.left)
    assert await snapshot(store) == before


async def test_recovery_is_not_run_when_it_would_drop_a_collection_in_use(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    await tenants(store)[organization["tenant_collection"]].insert_many([{"n": 1}, {"n": 2}])
    await edit_entry(store, organization["id"], {"$set": {"identifier": "something-else"}})
    report = await verify(store)
    said = Announcements()

    planned = {step.action for step in plan_repair(report, force=True, grace=timedelta(0))}
    outcome = await repair(store, settings, force=True, announce=said)

    assert "release claim" not in planned
    assert said[0].startswith("recovery not run: claim 'tech-innovations-corp'")
    assert await tenants(store)[organization["tenant_collection"]].count_documents({}) == 2
    assert "tech-innovations-corp" in await claim_ids(store)
    left = {step.subject: step.action for step in outcome.left}
    assert left["tech-innovations-corp"] == "needs an operator"


async def crashed_move(store: Store, settings: Settings) -> list[ObjectId]:
    collection = tenants(store)["tenant_tech_innovations_corp"]
    ids = list((await collection.insert_many([{"n": n} for n in range(5)])).inserted_ids)
    crash = Crash("move.copied")
    with pytest.raises(ConnectionFailure):
        await move_organization(
            dying_store(store, crash), settings, NAME, DEDICATED, checkpoint=crash.checkpoint
        )
    return ids


async def test_repair_finishes_a_crashed_move_with_every_document(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    ids = await crashed_move(store, settings)

    outcome = await repair(store, settings, force=False, announce=Announcements())

    entry = await registry_entry(store, organization["id"])
    assert (entry["state"], entry["tenant_database"]) == ("active", DEDICATED)
    moved = store.tenant_database(DEDICATED)["tenant_tech_innovations_corp"]
    assert sorted(await moved.distinct("_id")) == sorted(ids)
    assert "tenant_tech_innovations_corp" not in await tenants(store).list_collection_names()
    assert outcome.final is not None
    assert outcome.final.clean


async def test_repair_reports_the_crashed_move_it_finished(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    organization = await created_org(client)
    await crashed_move(store, settings)
    said = Announcements()

    outcome = await repair(store, settings, force=False, announce=said)

    assert [(step.action, step.subject) for step in outcome.done] == [
        ("settled", recovered(organization))
    ]
    assert len(said) == 1
