"""`orgs move`, `orgs rebalance`, `capacity` and the capacity part of `verify`."""

import json
import re
from collections import Counter
from dataclasses import replace

import pytest

from app.config import Settings
from app.db.schema import ORGANIZATIONS
from app.db.store import Store
from tests.cli.conftest import Operator
from tests.support import assert_consistent, created_org

FIRST, SECOND, THIRD = "tenantry_tenants_1", "tenantry_tenants_2", "tenantry_tenants_3"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"tenant_db_count": 1})


@pytest.fixture
def crowded(operator: Operator) -> Operator:
    """Six organizations in the first database, organization i holding i documents."""
    for number in range(6):
        created = operator.run(
            created_org(operator.client, name=f"Org {number}", email=f"o{number}@example.com")
        )
        if number:
            collection = operator.store.tenant_database(FIRST)[created["tenant_collection"]]
            operator.run(collection.insert_many([{"n": n} for n in range(number)]))
    return operator


def with_pool(operator: Operator, *pool: str, **settings: object) -> Operator:
    """The operator's commands as run with another pool configured (and other settings)."""
    return replace(
        operator,
        store=replace(operator.store, tenant_pool=pool),
        settings=operator.settings.model_copy(update=settings),
    )


async def placed(store: Store) -> Counter[str]:
    entries = await store.master[ORGANIZATIONS].find({}, {"tenant_database": 1}).to_list()
    return Counter(entry["tenant_database"] for entry in entries)


def test_rebalance_proposes_the_smallest_tenants_and_changes_nothing(crowded: Operator) -> None:
    grown = with_pool(crowded, FIRST, SECOND, THIRD)

    result = grown.cli("orgs", "rebalance", "--tolerance", "0")

    assert result.exit_code == 0, result.output
    assert "4 proposed move(s)" in result.stdout
    proposed = re.findall(r"Org (\d)", result.stdout.split("proposed move(s)")[1])
    assert sorted(proposed) == ["0", "1", "2", "3"]  # the four smallest tenants
    assert "Dry run: nothing was moved" in result.stderr  # status, not the report
    assert crowded.run(placed(crowded.store)) == {FIRST: 6}


def test_rebalance_with_yes_evens_out_the_pool(crowded: Operator) -> None:
    grown = with_pool(crowded, FIRST, SECOND, THIRD)

    result = grown.cli("orgs", "rebalance", "--tolerance", "0", "--yes")

    assert result.exit_code == 0, result.output
    assert "[4/4] moved" in result.stderr
    assert "4 move(s) made" in result.stdout
    assert crowded.run(placed(crowded.store)) == {FIRST: 2, SECOND: 2, THIRD: 2}
    crowded.run(assert_consistent(crowded.store))
    again = grown.cli("orgs", "rebalance", "--tolerance", "0")
    assert "Balanced: no move needed." in again.stdout


def test_rebalance_drains_a_database_taken_out_of_the_pool(crowded: Operator) -> None:
    shrunk = with_pool(crowded, SECOND, THIRD)

    dry = shrunk.cli("orgs", "rebalance", "--limit", "4")
    done = shrunk.cli("orgs", "rebalance", "--yes")

    assert "outside the pool" in dry.stdout
    assert "4 proposed move(s)" in dry.stdout  # capped by --limit
    assert done.exit_code == 0, done.output
    assert crowded.run(placed(crowded.store)) == {SECOND: 3, THIRD: 3}
    crowded.run(assert_consistent(crowded.store))


def test_move_moves_and_refuses_to_move_twice(crowded: Operator) -> None:
    moved = crowded.cli("orgs", "move", "Org 3", "--to", SECOND)
    again = crowded.cli("orgs", "move", "Org 3", "--to", SECOND)
    unknown = crowded.cli("orgs", "move", "Nobody", "--to", SECOND)

    assert moved.exit_code == 0, moved.output
    assert f"Moved 'Org 3': tenant_org_3 from {FIRST} to {SECOND} (3 document(s))" in (moved.stdout)
    assert "not in the placement pool" in moved.stderr  # the pool is FIRST alone here
    assert again.exit_code == 1
    assert f"already in {SECOND}" in again.stderr
    assert unknown.exit_code == 1
    assert crowded.run(placed(crowded.store)) == {FIRST: 5, SECOND: 1}
    crowded.run(assert_consistent(crowded.store))
    listed = crowded.cli("orgs", "list", "--name", "Org 3")
    assert re.search(rf"Org 3\s*│.*│\s*{SECOND}\s*│\s*tenant_org_3\s*│", listed.stdout), (
        listed.stdout
    )


def test_capacity_reports_every_database_and_the_cluster(crowded: Operator) -> None:
    result = crowded.cli("capacity")

    assert result.exit_code == 0, result.output
    first = next(line for line in result.stdout.splitlines() if FIRST in line)
    # Six tenant collections, each with its _id index and the two of its document list.
    assert re.search(r"tenant\s*│\s*6\s*│\s*6\s*│\s*18\s*│\s*24\s*│", first), first
    assert "cluster" in result.stdout
    assert "WARNING" not in result.stdout


def test_capacity_warns_before_a_limit_is_reached(crowded: Operator) -> None:
    tight = with_pool(
        crowded, FIRST, capacity_database_limit=25, capacity_warn_ratio=0.8
    )  # 24 of 25: warning, not yet over

    capacity = tight.cli("capacity")
    verify = tight.cli("verify")

    assert capacity.exit_code == 1
    assert f"WARNING: database {FIRST}: 24 collections+indexes, 96% of the 25" in capacity.stdout
    assert "(warning)" in capacity.stdout
    assert verify.exit_code == 1
    assert "OK:" in verify.stdout  # the registry itself is fine
    assert f"CAPACITY WARNING: database {FIRST}" in verify.stdout


def test_capacity_says_when_a_limit_is_crossed(crowded: Operator) -> None:
    over = with_pool(crowded, FIRST, capacity_database_limit=24, capacity_cluster_limit=30)

    result = over.cli("capacity")

    assert result.exit_code == 1
    assert f"database {FIRST}: 24 collections+indexes, 100% of the 24" in result.stdout
    assert re.search(
        r"cluster: \d+ collections\+indexes, \d+% of the 30 planned \(over\)", result.stdout
    )


def test_move_and_rebalance_json(crowded: Operator) -> None:
    grown = with_pool(crowded, FIRST, SECOND)

    dry = grown.cli("orgs", "rebalance", "--tolerance", "0", "--limit", "1", "--json")
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    assert set(plan) == {
        "tolerance",
        "pool",
        "databases",
        "skipped_busy",
        "moves",
        "applied",
        "moved",
    }
    assert plan["pool"] == [FIRST, SECOND]
    assert {"name": FIRST, "in_pool": True, "now": 6, "after": 5} in plan["databases"]
    [move] = plan["moves"]
    assert move["organization"] == "Org 0"
    assert (move["from"], move["to"], move["documents"]) == (FIRST, SECOND, 0)
    assert set(move) == {
        "organization_id",
        "organization",
        "collection",
        "from",
        "to",
        "documents",
        "reason",
    }
    assert (plan["applied"], plan["moved"]) == (False, [])

    done = json.loads(grown.cli("orgs", "rebalance", "--limit", "1", "--yes", "--json").stdout)
    assert done["applied"] is True
    assert [result["organization"] for result in done["moved"]] == ["Org 0"]

    moved = grown.cli("orgs", "move", "Org 5", "--to", THIRD, "--json")
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout) == {
        "organization": "Org 5",
        "collection": "tenant_org_5",
        "from": FIRST,
        "to": THIRD,
        "documents": 5,
        "resumed": False,
        "in_pool": False,
    }
    # Without a terminal, progress is one line per phase on stderr.
    assert "copying documents (5)..." in moved.stderr
