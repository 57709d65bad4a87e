"""One growing population: organizations created step by step, measured after every step.

After the last step the registry is checked against the tenant databases.
"""

import math
import random
import statistics
import time
import traceback
from collections import Counter

from app.registry.capacity import Role, measure
from bench.in_process import Document, Service, memory_settings, running_service
from bench.latency import Latency
from bench.machine import CpuMeter
from bench.model import EN_DASH
from bench.placement_model import FinalCheck, GrowthPlan, GrowthRun, Step
from bench.placement_requests import Population, create_batch, lookup_batch, rename_batch
from bench.progress import speaker

REQUEST_TIMEOUT_SECONDS = 120.0
LISTING_ROUNDS = 5
ACTIVE = "active"

say = speaker("placement")


async def registry_entries(service: Service) -> list[Document]:
    cursor = service.registry.find(
        {}, {"name": 1, "state": 1, "tenant_database": 1, "tenant_collection": 1}
    )
    return [document async for document in cursor]


async def spread(service: Service) -> dict[str, int]:
    """Organizations per pool database, from the registry (outside the pool: their own keys)."""
    store = service.store
    counts: dict[str, int] = dict.fromkeys(store.tenant_pool, 0)
    for entry in await registry_entries(service):
        database = store.resolve_database(str(entry.get("tenant_database", "")))
        counts[database] = counts.get(database, 0) + 1
    return counts


async def listing_ms(service: Service, database: str) -> float:
    """Median time to list one tenant database's collections."""
    timings = []
    for _ in range(LISTING_ROUNDS):
        begin = time.perf_counter()
        await service.store.tenant_database(database).list_collection_names()
        timings.append(time.perf_counter() - begin)
    return statistics.median(timings) * 1000


async def measure_step(
    service: Service,
    population: Population,
    rng: random.Random,
    plan: GrowthPlan,
    round_number: int,
    begin: float,
    create_timings: list[float],
    create_seconds: float,
    errors: Counter[str],
    organizations_before: int,
) -> Step:
    lookups = await lookup_batch(service, population, rng, plan.lookups, errors)
    logins, renames = await rename_batch(
        service, population, rng, plan.renames, round_number, errors
    )
    per_database = await spread(service)
    measured = time.perf_counter()
    report = await measure(service.store, service.settings)
    measure_seconds = time.perf_counter() - measured
    tenants = [usage for usage in report.databases if usage.role is Role.TENANT]
    fullest = max(per_database, key=lambda name: per_database[name])
    return Step(
        organizations_before=organizations_before,
        organizations=len(population.names),
        seconds=time.perf_counter() - begin,
        create=Latency.of(create_timings),
        creates_per_second=len(create_timings) / create_seconds if create_seconds else math.nan,
        lookup=Latency.of(lookups),
        login=Latency.of(logins),
        rename=Latency.of(renames),
        errors=dict(errors),
        per_database=per_database,
        cluster_namespaces=report.cluster_namespaces,
        largest_database_namespaces=max((usage.namespaces for usage in tenants), default=0),
        capacity_warnings=report.warnings(),
        measure_seconds=measure_seconds,
        fullest_database=fullest,
        listing_ms=await listing_ms(service, fullest),
    )


async def final_check(service: Service, population: Population) -> FinalCheck:
    store = service.store
    entries = await registry_entries(service)
    recorded: dict[str, list[str]] = {}
    for entry in entries:
        database = store.resolve_database(str(entry.get("tenant_database", "")))
        recorded.setdefault(database, []).append(str(entry.get("tenant_collection")))
    listed = sorted(await store.client.list_database_names())
    missing: list[str] = []
    orphans: list[str] = []
    duplicates: list[str] = []
    master = store.master.name
    for database in sorted({*recorded, *store.tenant_pool, *listed} - {master}):
        present = {
            name
            for name in await store.tenant_database(database).list_collection_names()
            if not name.startswith("system.")
        }
        owned = recorded.get(database, [])
        missing += [f"{database}.{name}" for name in owned if name not in present]
        orphans += [f"{database}.{name}" for name in sorted(present - set(owned))]
        duplicates += [f"{database}.{name}" for name, seen in Counter(owned).items() if seen > 1]
    states = Counter(str(entry.get("state")) for entry in entries)
    return FinalCheck(
        organizations_expected=len(population.names),
        registry_entries=len(entries),
        not_active={state: count for state, count in states.items() if state != ACTIVE},
        missing=missing,
        orphans=orphans,
        duplicates=duplicates,
        outside_pool={
            name: len(owned) for name, owned in recorded.items() if name not in store.tenant_pool
        },
        databases_listed=listed,
        renames_checked=population.renames_checked,
        renames_failed=population.renames_failed,
    )


async def grow(plan: GrowthPlan) -> GrowthRun:
    run = GrowthRun(plan)
    say(
        f"{plan.title}: {plan.organizations:,} organizations over {plan.databases} database(s), "
        f"{plan.policy}, steps of {plan.step:,}"
    )
    started = time.perf_counter()
    meter = CpuMeter()
    meter.start()
    rng = random.Random(plan.seed)  # noqa: S311 - reproducible choices, not secrets
    population = Population()
    try:
        settings = memory_settings(
            # Counted once at start-up; the bench calls measure() itself after every step.
            capacity_refresh_seconds=0,
            tenant_db_count=plan.databases,
            tenant_placement=plan.policy,
        )
        async with running_service(settings, REQUEST_TIMEOUT_SECONDS) as service:
            round_number = 0
            while len(population.names) < plan.organizations:
                round_number += 1
                errors: Counter[str] = Counter()
                before = len(population.names)
                begin = time.perf_counter()
                count = min(plan.step, plan.organizations - before)
                timings = await create_batch(service, population, count, errors)
                created = time.perf_counter() - begin
                step = await measure_step(
                    service,
                    population,
                    rng,
                    plan,
                    round_number,
                    begin,
                    timings,
                    created,
                    errors,
                    before,
                )
                run.steps.append(step)
                low, high = step.spread
                say(
                    f"  {step.organizations:>6,} orgs: create p50 {step.create.p50_ms:.1f} ms, "
                    f"get p50 {step.lookup.p50_ms:.1f} ms, rename p50 "
                    f"{step.rename.p50_ms:.1f} ms, per db {low}{EN_DASH}{high}, "
                    f"measure {step.measure_seconds:.2f} s, step {step.seconds:.0f} s, "
                    f"errors {step.error_count}"
                )
                if errors["create"] >= count:
                    raise RuntimeError(f"every create of step {round_number} failed")
            run.final = await final_check(service, population)
    except Exception as exc:  # a broken run must not lose the steps measured before it
        traceback.print_exc()
        run.failure = f"{type(exc).__name__}: {exc}"
    run.seconds = time.perf_counter() - started
    run.cpu = meter.stop()
    say(f"{plan.title}: {run.seconds:.0f} s, problems: {run.problems or 'none'}")
    return run
