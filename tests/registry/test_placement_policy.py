"""Which database a new organization goes to: the policies on their own, and the pool setting."""

import asyncio
from collections import Counter

import pytest
from bson import ObjectId

from app.config import ExplicitSettings
from app.registry.placement import PlacementPolicy, TenantPlacement, rendezvous_weight

POOL = ["db_1", "db_2", "db_3", "db_4"]


class RecordedCounts:
    """The registry's counts per database, and how often they were read."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.reads = 0

    async def __call__(self) -> dict[str, int]:
        self.reads += 1
        return dict(self.counts)


def placement(
    policy: PlacementPolicy,
    counts: RecordedCounts,
    *,
    pool: list[str] = POOL,
    full: set[str] | None = None,
    refresh_seconds: float = 3600,
) -> TenantPlacement:
    return TenantPlacement(
        pool,
        policy,
        counts,
        default_database="legacy",
        refresh_seconds=refresh_seconds,
        full_databases=lambda: full or set(),
    )


async def test_least_filled_goes_to_the_emptiest_database() -> None:
    chooser = placement(
        PlacementPolicy.LEAST_FILLED, RecordedCounts({"db_1": 5, "db_2": 2, "db_3": 7, "db_4": 3})
    )

    assert await chooser.choose(ObjectId()) == "db_2"


async def test_least_filled_counts_its_own_placements_between_refreshes() -> None:
    counts = RecordedCounts({"db_1": 3, "db_2": 0, "db_3": 1, "db_4": 2})
    chooser = placement(PlacementPolicy.LEAST_FILLED, counts)

    chosen = [await chooser.choose(ObjectId()) for _ in range(10)]

    # 6 existing + 10 new = 16 over 4 databases: 4 each, without reading the registry again.
    assert Counter(chosen) == {"db_1": 1, "db_2": 4, "db_3": 3, "db_4": 2}
    assert counts.reads == 1


async def test_least_filled_takes_the_counts_a_refresh_read() -> None:
    counts = RecordedCounts({"db_1": 0, "db_2": 0, "db_3": 0, "db_4": 0})
    chooser = placement(PlacementPolicy.LEAST_FILLED, counts)
    await chooser.choose(ObjectId())
    # Another instance filled every database but db_3 meanwhile; the background refresh sees it.
    counts.counts = {"db_1": 9, "db_2": 9, "db_3": 1, "db_4": 9}
    await chooser.refresh()

    assert await chooser.choose(ObjectId()) == "db_3"
    assert counts.reads == 2


async def test_a_create_reads_no_count_once_the_first_is_in() -> None:
    counts = RecordedCounts({"db_1": 1, "db_2": 0})
    chooser = placement(PlacementPolicy.LEAST_FILLED, counts, pool=["db_1", "db_2"])
    await chooser.refresh()

    chosen = [await chooser.choose(ObjectId()) for _ in range(50)]

    assert counts.reads == 1
    assert abs(1 + chosen.count("db_1") - chosen.count("db_2")) <= 1


async def test_a_create_before_the_first_count_waits_for_it() -> None:
    counts = RecordedCounts({"db_1": 5, "db_2": 0})
    chooser = placement(PlacementPolicy.LEAST_FILLED, counts, pool=["db_1", "db_2"])

    _, chosen = await asyncio.gather(chooser.refresh(), chooser.choose(ObjectId()))

    assert chosen == "db_2"
    assert counts.reads == 1


async def test_the_hash_policy_reads_no_counts() -> None:
    counts = RecordedCounts({})
    chooser = placement(PlacementPolicy.HASH, counts, refresh_seconds=0)

    await chooser.run_periodically()  # returns at once: nothing to count
    await chooser.choose(ObjectId())

    assert counts.reads == 0


async def test_entries_without_a_database_count_for_the_default_one() -> None:
    chooser = placement(
        PlacementPolicy.LEAST_FILLED,
        RecordedCounts({"": 4, "legacy": 1, "db_1": 3}),
        pool=["legacy", "db_1"],
    )

    assert await chooser.choose(ObjectId()) == "db_1"


async def test_ties_are_broken_by_the_organization_not_by_pool_order() -> None:
    chooser = placement(PlacementPolicy.LEAST_FILLED, RecordedCounts({}))

    async def tied() -> str:
        await chooser.refresh()  # all zero again: only the tie-break decides
        return await chooser.choose(ObjectId())

    chosen = Counter([await tied() for _ in range(400)])

    assert set(chosen) == set(POOL)
    assert min(chosen.values()) > 50


async def test_a_failed_create_is_not_counted() -> None:
    chooser = placement(
        PlacementPolicy.LEAST_FILLED, RecordedCounts({"db_1": 0, "db_2": 1}), pool=["db_1", "db_2"]
    )
    for _ in range(5):
        chosen = await chooser.choose(ObjectId())
        assert chosen == "db_1"  # counted, then forgotten: db_1 stays the emptier
        chooser.forget(chosen)
    chooser.forget("db_1")  # more than was counted: the count stays at zero, not below
    # An organization that a 1-1 tie would send to db_2.
    leaning = next(
        candidate
        for candidate in iter(ObjectId, None)
        if rendezvous_weight(candidate, "db_2") > rendezvous_weight(candidate, "db_1")
    )

    assert await chooser.choose(ObjectId()) == "db_1"
    assert await chooser.choose(leaning) == "db_2"


async def test_a_full_database_is_skipped_while_another_has_room() -> None:
    counts = RecordedCounts({"db_1": 0, "db_2": 50, "db_3": 50, "db_4": 50})
    least = placement(PlacementPolicy.LEAST_FILLED, counts, full={"db_1"})
    hashed = placement(PlacementPolicy.HASH, counts, full={"db_1", "db_2"})

    assert {await least.choose(ObjectId()) for _ in range(20)} <= {"db_2", "db_3", "db_4"}
    assert {await hashed.choose(ObjectId()) for _ in range(50)} == {"db_3", "db_4"}


async def test_when_every_database_is_full_organizations_are_still_placed() -> None:
    chooser = placement(PlacementPolicy.LEAST_FILLED, RecordedCounts({}), full=set(POOL))

    assert await chooser.choose(ObjectId()) in POOL


async def test_hash_is_stable_and_spreads_evenly() -> None:
    chooser = placement(PlacementPolicy.HASH, RecordedCounts({}))
    ids = [ObjectId() for _ in range(2000)]

    first = [await chooser.choose(organization_id) for organization_id in ids]
    again = [await chooser.choose(organization_id) for organization_id in ids]

    assert first == again
    spread = Counter(first)
    assert set(spread) == set(POOL)
    assert all(400 <= count <= 600 for count in spread.values()), spread


async def test_growing_the_pool_changes_few_hash_choices() -> None:
    ids = [ObjectId() for _ in range(2000)]
    four = placement(PlacementPolicy.HASH, RecordedCounts({}))
    five = placement(PlacementPolicy.HASH, RecordedCounts({}), pool=[*POOL, "db_5"])

    before = [await four.choose(organization_id) for organization_id in ids]
    after = [await five.choose(organization_id) for organization_id in ids]

    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    # Rendezvous hashing: only the choices the new database wins change (about 1 in 5).
    assert all(new == "db_5" for _, new in changed)
    assert 250 <= len(changed) <= 550


def test_the_pool_is_the_tenant_database_by_default() -> None:
    settings = ExplicitSettings(primary_db="acme")

    assert settings.tenant_pool == ("acme_tenants",)


def test_a_count_names_the_pool_after_the_prefix() -> None:
    derived = ExplicitSettings(primary_db="acme", tenant_db_count=3)
    prefixed = ExplicitSettings(tenant_db_count=2, tenant_db_prefix="t_")

    assert derived.tenant_pool == ("acme_tenants_1", "acme_tenants_2", "acme_tenants_3")
    assert prefixed.tenant_pool == ("t_1", "t_2")


def test_an_explicit_list_is_the_pool_in_its_order() -> None:
    settings = ExplicitSettings.model_validate({"tenant_databases": " east , west,north "})

    assert settings.tenant_pool == ("east", "west", "north")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"tenant_databases": "a,b", "tenant_db_count": 2}, "not both"),
        ({"tenant_databases": "a,a"}, "twice"),
        ({"tenant_databases": "a,tenantry"}, "must not include PRIMARY_DB"),
        ({"tenant_databases": "ok,bad.name"}, "'bad.name' must be at most 63 bytes"),
        ({"tenant_db_count": 2, "tenant_db_prefix": "x" * 63}, "must be at most 63 bytes"),
    ],
)
def test_an_unusable_pool_is_refused_at_start_up(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ExplicitSettings(**fields)  # type: ignore[arg-type]


def test_the_policy_setting_names_a_known_policy() -> None:
    assert {policy.value for policy in PlacementPolicy} == {"least-filled", "hash"}
    with pytest.raises(ValueError, match="tenant_placement"):
        ExplicitSettings(tenant_placement="random")  # type: ignore[arg-type]
