"""`verify` and `repair` on deliberately broken states."""

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from app.db.schema import ACCOUNTS, IDENTIFIER_CLAIMS, MEMBERSHIPS, ORGANIZATIONS
from app.db.store import Store
from tests.cli.conftest import Operator
from tests.support import assert_consistent, created_org, tenants

LONG_AGO = datetime.now(UTC) - timedelta(hours=3)


async def snapshot(store: Store) -> dict[str, list[Any]]:
    """Every document of both databases, by collection."""
    contents: dict[str, list[Any]] = {}
    for database in (store.master, tenants(store)):
        for name in sorted(await database.list_collection_names()):
            documents = await database[name].find({}).to_list()
            contents[f"{database.name}.{name}"] = sorted(documents, key=lambda d: str(d["_id"]))
    return contents


async def collections(store: Store) -> set[str]:
    return set(await tenants(store).list_collection_names())


def break_everything(operator: Operator) -> dict[str, dict[str, Any]]:
    """Organizations created through the API, then damaged the ways a crash or a hand edit can."""
    store = operator.store
    orgs = {
        name: operator.run(created_org(operator.client, name, f"owner@{name.lower()}.example"))
        for name in ("Alpha", "Beta", "Gamma", "Delta")
    }
    registry = store.master[ORGANIZATIONS]
    # Alpha's collection disappeared.
    operator.run(tenants(store).drop_collection(orgs["Alpha"]["tenant_collection"]))
    # Beta's delete died half way: still registered, state deleting, long ago.
    beta = ObjectId(orgs["Beta"]["id"])
    operator.run(
        registry.update_one({"_id": beta}, {"$set": {"state": "deleting", "modified_at": LONG_AGO}})
    )
    # Gamma's rename to "Gamma Two" died after claiming the new identifier.
    gamma = ObjectId(orgs["Gamma"]["id"])
    operator.run(tenants(store)["tenant_gamma"].insert_many([{"n": n} for n in range(4)]))
    target = {
        "name": "Gamma Two",
        "name_key": "gamma two",
        "identifier": "gamma-two",
        "tenant_collection": "tenant_gamma_two",
        "copying": False,
    }
    operator.run(
        registry.update_one(
            {"_id": gamma},
            {"$set": {"state": "renaming", "pending_rename": target, "modified_at": LONG_AGO}},
        )
    )
    claims = store.master[IDENTIFIER_CLAIMS]
    operator.run(
        claims.insert_one({"_id": "gamma-two", "organization_id": gamma, "claimed_at": LONG_AGO})
    )
    # A claim nobody accounts for, and two collections nobody points to.
    operator.run(
        claims.insert_one(
            {"_id": "zombie-corp", "organization_id": ObjectId(), "claimed_at": LONG_AGO}
        )
    )
    operator.run(tenants(store).create_collection("tenant_ghost_empty"))
    operator.run(tenants(store)["tenant_ghost_full"].insert_many([{"kept": n} for n in range(3)]))
    return orgs


def test_verify_reports_every_problem_and_repair_settles_them(operator: Operator) -> None:
    orgs = break_everything(operator)
    store = operator.store

    verified = operator.cli("verify")
    assert verified.exit_code == 1, verified.output
    for expected in (
        "missing collection",
        "tenant_alpha does not exist",
        "unfinished operation",
        "state deleting for 3 h",
        "state renaming for 3 h; moving tenant_gamma to tenant_gamma_two",
        "orphan claim",
        "zombie-corp",
        "orphan collection",
        "tenant_ghost_empty",
        "no organization points to it; empty",
        "tenant_ghost_full",
        "holds 3 document(s)",
    ):
        assert expected in verified.stdout, expected

    # A dry run shows the plan and changes nothing.
    before = operator.run(snapshot(store))
    dry = operator.cli("repair")
    assert dry.exit_code == 1, dry.output  # there is work to do
    assert "Dry run: nothing was changed" in dry.stderr
    plan = ("settle", "create tenantry_tenants.tenant_alpha empty", "drop empty collection", "keep")
    for expected in plan:
        assert expected in dry.stdout, expected
    assert operator.run(snapshot(store)) == before

    # Without --force the collection holding documents stays, so problems remain.
    repaired = operator.cli("repair", "--yes")
    assert repaired.exit_code == 1, repaired.output
    assert "Left for an operator" in repaired.stdout
    present = operator.run(collections(store))
    assert "tenant_alpha" in present
    assert "tenant_ghost_empty" not in present
    assert "tenant_ghost_full" in present
    assert operator.run(tenants(store)["tenant_ghost_full"].count_documents({})) == 3
    # Beta's delete finished: entry, owner account, membership, collection and claim are gone.
    beta = ObjectId(orgs["Beta"]["id"])
    assert operator.run(store.master[ORGANIZATIONS].find_one({"_id": beta})) is None
    assert operator.run(store.master[MEMBERSHIPS].count_documents({"organization_id": beta})) == 0
    assert operator.run(store.master[ACCOUNTS].find_one({"email": "owner@beta.example"})) is None
    assert "tenant_beta" not in present
    # Gamma's rename finished with every document.
    gamma = operator.run(
        store.master[ORGANIZATIONS].find_one({"_id": ObjectId(orgs["Gamma"]["id"])})
    )
    assert gamma is not None
    assert (gamma["state"], gamma["name"], gamma["tenant_collection"]) == (
        "active",
        "Gamma Two",
        "tenant_gamma_two",
    )
    assert operator.run(tenants(store)["tenant_gamma_two"].count_documents({})) == 4
    assert "tenant_gamma" not in present
    claims = operator.run(store.master[IDENTIFIER_CLAIMS].distinct("_id"))
    assert sorted(claims) == ["alpha", "delta", "gamma-two"]

    remaining = operator.cli("verify")
    assert remaining.exit_code == 1
    assert "tenant_ghost_full" in remaining.stdout
    assert "unfinished operation" not in remaining.stdout

    forced = operator.cli("repair", "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    confirmation = (
        "--force given: dropping orphan collection tenantry_tenants.tenant_ghost_full and its 3"
    )
    assert confirmation in forced.stdout
    assert "tenant_ghost_full" not in operator.run(collections(store))

    clean = operator.cli("verify")
    assert clean.exit_code == 0, clean.output
    assert "everything agrees" in clean.stdout
    operator.run(assert_consistent(store))


def test_a_collection_an_organization_points_to_is_never_dropped(operator: Operator) -> None:
    """Even empty, even with --force: it belongs to an organization or to its rename."""
    org = operator.run(created_org(operator.client))
    before = operator.run(collections(operator.store))
    result = operator.cli("repair", "--yes", "--force")
    assert result.exit_code == 0, result.output
    assert "Nothing to repair" in result.stdout
    assert operator.run(collections(operator.store)) == before == {org["tenant_collection"]}


def test_repairs_owner_count_and_missing_claim(operator: Operator) -> None:
    org = operator.run(created_org(operator.client))
    organization_id = ObjectId(org["id"])
    store = operator.store
    operator.run(
        store.master[ORGANIZATIONS].update_one(
            {"_id": organization_id}, {"$set": {"owner_count": 3}}
        )
    )
    operator.run(store.master[IDENTIFIER_CLAIMS].delete_many({}))
    verified = operator.cli("verify")
    assert verified.exit_code == 1
    assert "owner_count says 3, 1 owner membership(s)" in verified.stdout
    assert "no identifier claim holds 'tech-innovations-corp'" in verified.stdout

    assert operator.cli("repair", "--yes").exit_code == 0
    document = operator.run(store.master[ORGANIZATIONS].find_one({"_id": organization_id}))
    assert document is not None
    assert document["owner_count"] == 1
    claim = operator.run(
        store.master[IDENTIFIER_CLAIMS].find_one({"_id": org["organization_identifier"]})
    )
    assert claim is not None
    assert claim["organization_id"] == organization_id
    assert operator.cli("verify").exit_code == 0


def test_what_needs_a_human_is_reported_not_guessed(operator: Operator) -> None:
    org = operator.run(created_org(operator.client))
    store = operator.store
    operator.run(store.master[MEMBERSHIPS].delete_many({}))  # no owner, and a lonely account
    operator.run(
        store.master[ORGANIZATIONS].update_one(
            {"_id": ObjectId(org["id"])}, {"$set": {"identifier": "something-else"}}
        )
    )
    verified = operator.cli("verify")
    assert verified.exit_code == 1
    for expected in (
        "organization without owner",
        "account without membership",
        "admin@techcorp.com",
        "name mismatch",
        "identifier is 'something-else', the naming rules give 'tech-innovations-corp'",
    ):
        assert expected in verified.stdout, expected

    before = operator.run(snapshot(store))
    repaired = operator.cli("repair", "--yes")
    assert repaired.exit_code == 1
    assert "needs an operator" in repaired.stdout
    assert "accounts create-owner" in repaired.stdout
    # The claim on the old identifier looks like a leftover, but its collection is the one
    # the organization uses: recovery would drop it, so it is not run.
    assert "recovery not run: claim 'tech-innovations-corp'" in repaired.stdout
    assert org["tenant_collection"] in operator.run(collections(store))
    after = operator.run(snapshot(store))
    for unchanged in ("organizations", "accounts", "memberships"):
        assert after[f"tenantry.{unchanged}"] == before[f"tenantry.{unchanged}"]
