"""`python -m bench.placement`: ten thousand organizations spread over several tenant databases.

The service runs inside this process on the embedded in-memory store (mongomock, `memory://`),
driven through httpx's ASGI transport, with `TENANT_DB_COUNT` tenant databases and the chosen
`TENANT_PLACEMENT` policy. Organizations are created one after another through
`POST /org/create` (BCRYPT_ROUNDS=4), and after every step (1,000 organizations by default)
the bench measures:

- the latency and rate of that step's creates;
- `GET /org/get` of randomly chosen existing organizations;
- renames of randomly chosen organizations (`POST /admin/login`, then `PUT /org/update`),
  checking that each tenant collection moved inside the database the registry records for it;
- how the registry spreads the organizations over the databases;
- the collections and indexes `app.organizations.capacity.measure` counts, and how long that
  count takes;
- how long listing the collections of the fullest tenant database takes, the one per-database
  cost that spreading divides.

At the end every organization's recorded collection must exist in its recorded database and no
tenant database may hold a collection nobody owns. Two shorter runs follow (not with
`--quick`): a control with the same measurements in a single tenant database, and the spread
that hash placement gives.

Results: bench/results/placement.md, placement.json and placement_cost.png.
"""

import argparse
import asyncio
import json
import math
import random
import secrets
import shlex
import statistics
import sys
import time
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from app.config import Settings
from app.db.memory import open_memory_store
from app.db.schema import ORGANIZATIONS
from app.db.store import Store
from app.factory import create_app
from app.organizations.capacity import Role, measure
from bench.api import PASSWORD, email_for, org_name_for
from bench.machine import CpuMeter, code_revision, machine
from bench.model import EN_DASH, TIMES
from bench.report import RunInfo, _json_safe

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
BASE_URL = "http://bench.invalid"
STORE = "in-memory (mongomock, `memory://`)"
REQUEST_TIMEOUT_SECONDS = 120.0
NAME_TAG = "P"
LISTING_ROUNDS = 5
ACTIVE = "active"
CHART = "placement_cost.png"
# The latencies reported per step: what the report calls them, and the Step field holding them.
SERIES = (("create", "create"), ("get", "lookup"), ("rename", "rename"))

Document = dict[str, Any]
Policy = Literal["least-filled", "hash"]


def say(message: str) -> None:
    sys.stderr.write(f"[placement {datetime.now():%H:%M:%S}] {message}\n")
    sys.stderr.flush()


class IsolatedSettings(Settings):
    """Settings from keyword arguments only: the environment and `.env` are ignored."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def settings_for(databases: int, policy: Policy) -> Settings:
    return IsolatedSettings(
        mongo_uri="memory://",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        recovery_interval_seconds=0,
        # Counted once at start-up; the bench calls measure() itself after every step.
        capacity_refresh_seconds=0,
        tenant_db_count=databases,
        tenant_placement=policy,
        # The in-memory store announces itself at WARNING; the bench knows.
        log_level="ERROR",
    )


@dataclass(frozen=True)
class Service:
    client: httpx.AsyncClient
    store: Store
    settings: Settings


@asynccontextmanager
async def running_service(settings: Settings) -> AsyncIterator[Service]:
    # The app is built first so that its logging set-up is in place before the store opens;
    # the opener runs only at start-up, when `store` exists.
    app = create_app(settings, store_opener=lambda _: store)
    store = open_memory_store(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url=BASE_URL,
            timeout=REQUEST_TIMEOUT_SECONDS,
        ) as client,
    ):
        yield Service(client, store, settings)


# --- figures -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Latency:
    """Milliseconds over one batch of requests."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Latency":
        ms = [value * 1000 for value in seconds]
        return cls(
            count=len(ms),
            p50_ms=percentile(ms, 0.50),
            p95_ms=percentile(ms, 0.95),
            p99_ms=percentile(ms, 0.99),
            max_ms=max(ms) if ms else math.nan,
            mean_ms=statistics.fmean(ms) if ms else math.nan,
        )


@dataclass
class Step:
    # The step's creates took the registry from `organizations_before` to `organizations`; the
    # other figures are measured at `organizations`.
    organizations_before: int
    organizations: int
    seconds: float
    create: Latency
    creates_per_second: float
    lookup: Latency
    login: Latency
    rename: Latency
    errors: dict[str, int]
    per_database: dict[str, int]
    cluster_namespaces: int
    largest_database_namespaces: int
    capacity_warnings: list[str]
    measure_seconds: float
    fullest_database: str
    listing_ms: float

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def spread(self) -> tuple[int, int]:
        counts = list(self.per_database.values())
        return (min(counts), max(counts)) if counts else (0, 0)


@dataclass
class FinalCheck:
    """Registry against the tenant databases, after the last step."""

    organizations_expected: int
    registry_entries: int
    not_active: dict[str, int]
    missing: list[str]
    orphans: list[str]
    duplicates: list[str]
    outside_pool: dict[str, int]
    databases_listed: list[str]
    renames_checked: int
    renames_failed: int

    @property
    def problems(self) -> list[str]:
        found = []
        if self.registry_entries != self.organizations_expected:
            found.append(
                f"the registry holds {self.registry_entries:,} organizations, "
                f"{self.organizations_expected:,} were created"
            )
        if self.not_active:
            found.append(f"organizations not active: {self.not_active}")
        if self.missing:
            found.append(
                f"{len(self.missing):,} recorded tenant collections are missing "
                f"(first: {', '.join(self.missing[:5])})"
            )
        if self.orphans:
            found.append(
                f"{len(self.orphans):,} tenant collections belong to no organization "
                f"(first: {', '.join(self.orphans[:5])})"
            )
        if self.duplicates:
            found.append(f"namespaces recorded twice: {', '.join(self.duplicates[:5])}")
        if self.outside_pool:
            found.append(f"organizations placed outside the pool: {self.outside_pool}")
        if self.renames_failed:
            found.append(
                f"{self.renames_failed} of {self.renames_checked} renames failed or left the "
                "collection somewhere else than recorded"
            )
        return found


@dataclass(frozen=True)
class GrowthPlan:
    key: str
    title: str
    organizations: int
    databases: int
    policy: Policy
    step: int
    lookups: int
    renames: int
    seed: int


@dataclass
class GrowthRun:
    plan: GrowthPlan
    steps: list[Step] = field(default_factory=list)
    final: FinalCheck | None = None
    failure: str = ""
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        found = [f"run aborted: {self.failure}"] if self.failure else []
        errors = sum(step.error_count for step in self.steps)
        if errors:
            found.append(f"{errors} requests failed or answered wrongly during the steps")
        if self.final is not None:
            found += self.final.problems
        elif not self.failure:
            found.append("the final check did not run")
        return found


# --- one growing population --------------------------------------------------------------------


@dataclass
class Population:
    """The organizations created so far, by sequence number, under their current names."""

    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    # Sequence numbers used, failed creates included: a name is never tried twice.
    attempts: int = 0
    renames_checked: int = 0
    renames_failed: int = 0


async def create_batch(
    service: Service, population: Population, count: int, errors: Counter[str]
) -> list[float]:
    timings: list[float] = []
    for _ in range(count):
        number = population.attempts
        population.attempts += 1
        name, email = org_name_for(NAME_TAG, number), email_for(NAME_TAG, number)
        begin = time.perf_counter()
        response = await service.client.post(
            "/org/create", json={"organization_name": name, "email": email, "password": PASSWORD}
        )
        elapsed = time.perf_counter() - begin
        if response.status_code != 201:
            errors["create"] += 1
            say(f"create {name!r} answered {response.status_code}: {response.text[:200]}")
            continue
        timings.append(elapsed)
        population.names.append(name)
        population.emails.append(email)
    return timings


async def lookup_batch(
    service: Service, population: Population, rng: random.Random, count: int, errors: Counter[str]
) -> list[float]:
    timings: list[float] = []
    for _ in range(count if population.names else 0):
        name = rng.choice(population.names)
        begin = time.perf_counter()
        response = await service.client.get("/org/get", params={"organization_name": name})
        timings.append(time.perf_counter() - begin)
        if response.status_code != 200:
            errors["lookup"] += 1
    return timings


async def rename_batch(
    service: Service,
    population: Population,
    rng: random.Random,
    count: int,
    round_number: int,
    errors: Counter[str],
) -> tuple[list[float], list[float]]:
    """Renames of distinct random organizations: login and rename latencies."""
    registry = service.store.master[ORGANIZATIONS]
    logins: list[float] = []
    renames: list[float] = []
    numbers = rng.sample(range(len(population.names)), min(count, len(population.names)))
    for number in numbers:
        old_name = population.names[number]
        new_name = f"{org_name_for(NAME_TAG, number)} Renamed {round_number}"
        before = await registry.find_one({"name": old_name})
        begin = time.perf_counter()
        login = await service.client.post(
            "/admin/login", json={"email": population.emails[number], "password": PASSWORD}
        )
        logins.append(time.perf_counter() - begin)
        population.renames_checked += 1
        if login.status_code != 200 or before is None:
            errors["rename"] += 1
            population.renames_failed += 1
            continue
        begin = time.perf_counter()
        response = await service.client.put(
            "/org/update",
            json={
                "organization_name": new_name,
                "email": population.emails[number],
                "password": PASSWORD,
            },
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
        renames.append(time.perf_counter() - begin)
        if response.status_code != 200:
            errors["rename"] += 1
            population.renames_failed += 1
            say(f"rename of {old_name!r} answered {response.status_code}: {response.text[:200]}")
            continue
        population.names[number] = new_name
        if not await _moved_in_place(service.store, before, response.json()):
            errors["rename_check"] += 1
            population.renames_failed += 1
    return logins, renames


async def _moved_in_place(store: Store, before: Document, answer: Document) -> bool:
    """The registry still records the same database, and the collection moved inside it."""
    after = await store.master[ORGANIZATIONS].find_one({"_id": before["_id"]})
    if after is None:
        return False
    database = store.resolve_database(str(before.get("tenant_database", "")))
    present = set(await store.tenant_database(database).list_collection_names())
    current, previous = answer.get("current_collection"), answer.get("previous_collection")
    ok = (
        store.resolve_database(str(after.get("tenant_database", ""))) == database
        and after.get("tenant_collection") == current
        and previous == before.get("tenant_collection")
        and current in present
        and previous not in present
    )
    if not ok:
        say(
            f"rename of {before.get('name')!r}: registry {before.get('tenant_database')}."
            f"{before.get('tenant_collection')} -> {after.get('tenant_database')}."
            f"{after.get('tenant_collection')}; {current!r} listed: {current in present}, "
            f"{previous!r} still listed: {previous in present}"
        )
    return ok


async def registry_entries(store: Store) -> list[Document]:
    cursor = store.master[ORGANIZATIONS].find(
        {}, {"name": 1, "state": 1, "tenant_database": 1, "tenant_collection": 1}
    )
    return [document async for document in cursor]


async def spread(store: Store) -> dict[str, int]:
    """Organizations per pool database, from the registry (outside the pool: their own keys)."""
    counts: dict[str, int] = dict.fromkeys(store.tenant_pool, 0)
    for entry in await registry_entries(store):
        database = store.resolve_database(str(entry.get("tenant_database", "")))
        counts[database] = counts.get(database, 0) + 1
    return counts


async def listing_ms(store: Store, database: str) -> float:
    """Median time to list one tenant database's collections."""
    timings = []
    for _ in range(LISTING_ROUNDS):
        begin = time.perf_counter()
        await store.tenant_database(database).list_collection_names()
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
    per_database = await spread(service.store)
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
        listing_ms=await listing_ms(service.store, fullest),
    )


async def final_check(service: Service, population: Population) -> FinalCheck:
    store = service.store
    entries = await registry_entries(store)
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
        async with running_service(settings_for(plan.databases, plan.policy)) as service:
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


# --- the whole benchmark -----------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    organizations: int
    databases: int
    policy: Policy
    step: int
    lookups: int
    renames: int
    control_organizations: int
    control_databases: int
    hash_organizations: int
    hash_databases: int
    seed: int
    quick: bool
    out: Path

    def plans(self) -> list[GrowthPlan]:
        plans = [
            GrowthPlan(
                "main",
                "Growth",
                self.organizations,
                self.databases,
                self.policy,
                self.step,
                self.lookups,
                self.renames,
                self.seed,
            )
        ]
        if self.control_organizations:
            plans.append(
                GrowthPlan(
                    "control",
                    "Control",
                    self.control_organizations,
                    self.control_databases,
                    self.policy,
                    self.step,
                    self.lookups,
                    self.renames,
                    self.seed,
                )
            )
        if self.hash_organizations:
            plans.append(
                GrowthPlan(
                    "hash",
                    "Hash placement",
                    self.hash_organizations,
                    self.hash_databases,
                    "hash",
                    self.hash_organizations,
                    0,
                    0,
                    self.seed,
                )
            )
        return plans


def parse_args(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.placement",
        description="Grow the service to many organizations over several tenant databases "
        "on the in-memory store and report how costs grow.",
    )
    parser.add_argument("--organizations", type=int, help="organizations to create (10,000)")
    parser.add_argument("--databases", type=int, default=8, help="tenant databases (8)")
    parser.add_argument(
        "--policy", choices=("least-filled", "hash"), default="least-filled", help="placement"
    )
    parser.add_argument("--step", type=int, help="organizations between measurements (1,000)")
    parser.add_argument("--lookups", type=int, help="GET /org/get per step (200)")
    parser.add_argument("--renames", type=int, help="renames per step (20)")
    parser.add_argument(
        "--control-organizations",
        type=int,
        help="organizations in the single-database control run, 0 to skip (2,000)",
    )
    parser.add_argument(
        "--hash-organizations",
        type=int,
        help="organizations in the hash-placement comparison, 0 to skip (2,000)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="for the random choices")
    parser.add_argument(
        "--quick", action="store_true", help="1,000 organizations in steps of 250: a smoke run"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where results go (bench/results)"
    )
    args = parser.parse_args(argv)
    quick: bool = args.quick

    def pick(value: int | None, full: int, smoke: int) -> int:
        return value if value is not None else (smoke if quick else full)

    options = Options(
        organizations=pick(args.organizations, 10_000, 1_000),
        databases=args.databases,
        policy="hash" if args.policy == "hash" else "least-filled",
        step=pick(args.step, 1_000, 250),
        lookups=pick(args.lookups, 200, 100),
        renames=pick(args.renames, 20, 10),
        control_organizations=pick(args.control_organizations, 2_000, 500),
        control_databases=1,
        hash_organizations=pick(args.hash_organizations, 2_000, 0),
        hash_databases=args.databases,
        seed=args.seed,
        quick=quick,
        out=args.out,
    )
    if options.organizations < 1 or options.step < 1 or options.databases < 1:
        parser.error("--organizations, --step and --databases must be at least 1")
    if min(options.lookups, options.renames) < 0:
        parser.error("--lookups and --renames must not be negative")
    if min(options.control_organizations, options.hash_organizations) < 0:
        parser.error("--control-organizations and --hash-organizations must not be negative")
    return options


async def run_all(options: Options) -> list[GrowthRun]:
    return [await grow(plan) for plan in options.plans()]


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """Least-squares line through one p50 series against the number of organizations present
    (for creates: the middle of the step's range)."""

    what: str
    slope_ms_per_thousand: float
    intercept_ms: float
    r_squared: float
    first: float
    last: float
    first_at: str
    last_at: str

    @property
    def ratio(self) -> float:
        return self.last / self.first if self.first > 0 else math.nan

    def describe(self) -> str:
        return (
            f"{self.what} p50: {self.first:.1f} ms {self.first_at}, {self.last:.1f} ms "
            f"{self.last_at} ({self.ratio:.1f}{TIMES}); fit: {self.intercept_ms:.1f} ms "
            f"{'-' if self.slope_ms_per_thousand < 0 else '+'} "
            f"{abs(self.slope_ms_per_thousand):.1f} ms per 1,000 organizations present "
            f"(r\u00b2 {self.r_squared:.3f})"
        )


def _present(step: Step, value: str) -> float:
    if value == "create":
        return (step.organizations_before + step.organizations) / 2
    return float(step.organizations)


def _at(step: Step, value: str) -> str:
    if value == "create":
        return f"for organizations {step.organizations_before + 1:,}{EN_DASH}{step.organizations:,}"
    return f"with {step.organizations:,} present"


def fit(what: str, steps: list[Step], value: str) -> Fit | None:
    measured = [step for step in steps if math.isfinite(getattr(step, value).p50_ms)]
    xs = [_present(step, value) for step in measured]
    ys = [float(getattr(step, value).p50_ms) for step in measured]
    if len(set(xs)) < 2:
        return None
    slope, intercept = statistics.linear_regression(xs, ys)
    r_squared = statistics.correlation(xs, ys) ** 2 if len(set(ys)) > 1 else math.nan
    return Fit(
        what,
        slope * 1000,
        intercept,
        r_squared,
        ys[0],
        ys[-1],
        _at(measured[0], value),
        _at(measured[-1], value),
    )


def _ms(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}" if math.isfinite(value) else "n/a"


def step_table(steps: list[Step]) -> list[str]:
    headers = [
        "organizations",
        "create p50 ms",
        "create p95 ms",
        "creates/s",
        "get p50 ms",
        "get p95 ms",
        "rename p50 ms",
        "rename p95 ms",
        "orgs per database (min" + EN_DASH + "max)",
        "collections+indexes (cluster)",
        "measure() s",
        "list fullest tenant db ms",
        "errors",
    ]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---:|" * len(headers)]
    for step in steps:
        low, high = step.spread
        cells = [
            f"{step.organizations:,}",
            _ms(step.create.p50_ms),
            _ms(step.create.p95_ms),
            _ms(step.creates_per_second),
            _ms(step.lookup.p50_ms),
            _ms(step.lookup.p95_ms),
            _ms(step.rename.p50_ms),
            _ms(step.rename.p95_ms),
            f"{low:,}{EN_DASH}{high:,}",
            f"{step.cluster_namespaces:,}",
            _ms(step.measure_seconds, 2),
            _ms(step.listing_ms, 2),
            str(step.error_count) if step.error_count else "0",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def comparison_table(main: GrowthRun, control: GrowthRun) -> list[str]:
    headers = [
        "organizations",
        "databases",
        "create p50 ms",
        "get p50 ms",
        "rename p50 ms",
        "measure() s",
        "list fullest tenant db ms",
        "tenant collections in fullest db",
    ]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---:|" * len(headers)]
    by_count = {step.organizations: step for step in main.steps}
    for step in control.steps:
        for run, row in ((control, step), (main, by_count.get(step.organizations))):
            if row is None:
                continue
            cells = [
                f"{row.organizations:,}",
                str(run.plan.databases),
                _ms(row.create.p50_ms),
                _ms(row.lookup.p50_ms),
                _ms(row.rename.p50_ms),
                _ms(row.measure_seconds, 2),
                _ms(row.listing_ms, 2),
                f"{row.per_database.get(row.fullest_database, 0):,}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def spread_line(per_database: dict[str, int]) -> str:
    counts = list(per_database.values())
    if not counts:
        return "no databases"
    mean = statistics.fmean(counts)
    deviation = statistics.pstdev(counts)
    return (
        f"min {min(counts):,}, max {max(counts):,}, standard deviation {deviation:.1f} "
        f"({deviation / mean:.1%} of the mean {mean:,.1f})"
    )


def _cpu_note(cpu: dict[str, float]) -> str:
    other = cpu.get("other_processes_share", math.nan)
    if not math.isfinite(other):
        return ""
    return (
        f"other processes used {other:.0%} of the machine's CPU capacity while it ran "
        f"(the bench and the service: {cpu['bench_and_server_share']:.0%} of both cores)"
    )


def render_markdown(info: RunInfo, options: Options, runs: list[GrowthRun]) -> str:
    facts = machine()
    packages = ", ".join(
        f"{key.split(':', 1)[1]} {value}"
        for key, value in facts.items()
        if key.startswith("version:")
    )
    by_key = {run.plan.key: run for run in runs}
    main = by_key["main"]
    problems = [f"{run.plan.title}: {problem}" for run in runs for problem in run.problems]
    lines = [
        "# Tenantry placement benchmark: organizations over several tenant databases",
        "",
        "| | |",
        "|---|---|",
        f"| Date | {info.started:%Y-%m-%d %H:%M:%S %Z}, "
        f"took {info.duration_seconds / 60:.1f} min |",
        f"| Command | `{info.command}` |",
        f"| Store | {info.store} |",
        f"| Code | {info.code} |",
        f"| Machine | {facts['cores']} cores, {facts['cpu']} |",
        f"| Python | {facts['implementation']} {facts['python']} |",
        f"| Platform | {facts['platform']} |",
        f"| Packages | {packages} |",
        "",
    ]
    if problems:
        lines += ["**FAILED CHECKS:**", ""] + [f"- **{problem}**" for problem in problems]
    else:
        final = main.final
        assert final is not None  # noqa: S101 - no problems means the final check ran
        lines.append(
            f"**All checks passed.** {final.registry_entries:,} organizations over "
            f"{main.plan.databases} tenant databases ({main.plan.policy} placement); every "
            "recorded tenant collection exists in its recorded database, no tenant database "
            f"holds a collection without an organization, and {final.renames_checked} renames "
            "each moved the collection inside its own database."
        )
    lines += [
        "",
        "The service runs in the bench process on the in-memory store, driven through httpx's "
        "ASGI transport (no network), with BCRYPT_ROUNDS=4, recovery sweeps off and the "
        "capacity count taken at start-up only. Organizations are created one at a time "
        "through `POST /org/create`; after each step the bench times "
        f"{options.lookups} `GET /org/get` of random existing organizations and "
        f"{options.renames} renames of random organizations (`POST /admin/login`, then the "
        "timed `PUT /org/update`), reads the spread from the registry, runs "
        "`app.organizations.capacity.measure()` and times listing the fullest tenant "
        "database's collections (median of 5). In each row the create columns cover the "
        "creates that brought the registry from the row above to that row's count; the other "
        "columns are measured at that count.",
        "",
        f"## Growth: {main.plan.organizations:,} organizations over {main.plan.databases} "
        f"databases ({main.plan.policy})",
        "",
        *step_table(main.steps),
        "",
    ]
    fits = [found for name, value in SERIES if (found := fit(name, main.steps, value))]
    if fits:
        lines += ["### How cost grows", ""] + [f"- {found.describe()}" for found in fits]
        if main.steps:
            total_creates = sum(step.create.mean_ms * step.create.count for step in main.steps)
            lines.append(
                f"- Creating all {main.steps[-1].organizations:,} organizations took "
                f"{total_creates / 60_000:.1f} min of request time; the whole run "
                f"{main.seconds / 60:.1f} min."
            )
        lines.append("")
    if main.steps:
        last = main.steps[-1]
        lines += [
            f"Spread at {last.organizations:,}: {spread_line(last.per_database)}. Per "
            "database: "
            + ", ".join(f"`{name}` {count:,}" for name, count in last.per_database.items())
            + ".",
            "",
            f"Capacity at {last.organizations:,}: {last.cluster_namespaces:,} collections+"
            f"indexes in the cluster, at most {last.largest_database_namespaces:,} in one "
            "tenant database; "
            + (
                "warnings: " + "; ".join(last.capacity_warnings)
                if last.capacity_warnings
                else "no capacity warnings at the default limits"
            )
            + ".",
            "",
        ]
    control = by_key.get("control")
    if control is not None:
        lines += [
            f"## Control: the same in {control.plan.databases} database",
            "",
            f"{control.plan.organizations:,} organizations created the same way with "
            f"TENANT_DB_COUNT={control.plan.databases}, beside the main run's figures at the "
            "same counts.",
            "",
            *comparison_table(main, control),
            "",
        ]
        if control.problems:
            lines += [f"- **{problem}**" for problem in control.problems] + [""]
    hashed = by_key.get("hash")
    if hashed is not None:
        lines += [f"## Hash placement: {hashed.plan.organizations:,} organizations", ""]
        if hashed.steps:
            last = hashed.steps[-1]
            least = next(
                (step for step in main.steps if step.organizations == last.organizations), None
            )
            expected = math.sqrt(
                last.organizations * (1 / hashed.plan.databases) * (1 - 1 / hashed.plan.databases)
            )
            lines.append(
                f"- hash over {hashed.plan.databases} databases: {spread_line(last.per_database)}"
                f"; a uniform random choice would deviate by about {expected:.1f}."
            )
            if least is not None:
                lines.append(
                    f"- least-filled at the same count (main run): "
                    f"{spread_line(least.per_database)}."
                )
            lines.append(
                f"- create p50 with hash placement: {_ms(last.create.p50_ms)} ms over the "
                f"{last.create.count:,} creates."
            )
        lines += [f"- **{problem}**" for problem in hashed.problems] + [""]
    lines += ["## Notes", ""] + [f"- {note}" for note in notes(options, runs)] + [""]
    if (options.out / CHART).exists():
        lines += [f"![cost against organizations]({CHART})", ""]
    return "\n".join(lines)


def notes(options: Options, runs: list[GrowthRun]) -> list[str]:
    by_key = {run.plan.key: run for run in runs}
    main = by_key["main"]
    found = [
        "**These are in-memory store costs, not MongoDB costs.** mongomock answers every "
        "query, including lookups by `_id` and unique-index checks on insert, by scanning the "
        "whole collection in Python. The registry collections in the master database "
        "(organizations, accounts, memberships, workspaces, identifier claims) hold one or "
        "more documents per organization, so each create, get and rename does work "
        "proportional to the number of organizations, and creating N organizations costs "
        "O(N\u00b2) in total. On MongoDB those queries use the indexes the service declares.",
        "mongomock also lists a database's collections by walking all of them, so "
        "`list_collection_names` (used by create, rename and the capacity count) costs "
        "O(collections in that database): the `list fullest tenant db ms` column. Spreading "
        "over N databases divides that per-database cost by N; it does not divide the "
        "registry scans, which live in the master database.",
    ]
    control = by_key.get("control")
    if control is not None and control.steps:
        common = {step.organizations: step for step in main.steps}
        shared = [step for step in control.steps if step.organizations in common]
        if shared:
            one, many = shared[-1], common[shared[-1].organizations]
            found.append(
                f"At {one.organizations:,} organizations, one database against "
                f"{main.plan.databases}: listing the fullest tenant database "
                f"{_ms(one.listing_ms, 2)} ms against {_ms(many.listing_ms, 2)} ms; create p50 "
                f"{_ms(one.create.p50_ms)} ms against {_ms(many.create.p50_ms)} ms, rename p50 "
                f"{_ms(one.rename.p50_ms)} ms against {_ms(many.rename.p50_ms)} ms. Even in one "
                f"database one listing is {one.listing_ms / one.create.p50_ms:.1%} of a create's "
                "p50: on this store the registry scans dominate."
            )
    found.append(
        "`measure()` counts every collection's indexes one by one on the in-memory store (it "
        "has no `dbStats`), so its time grows with the total number of tenant collections, "
        "however they are spread."
    )
    if main.steps and main.plan.policy == "least-filled":
        low, high = main.steps[-1].spread
        found.append(
            "Least-filled placement with one service instance creating sequentially: the "
            f"databases end {high - low} organization(s) apart; renames stay in their database "
            "and do not change the counts."
        )
    found.append(
        f"Creates are sequential (one request at a time) and timed client-side; creates/s is "
        f"that step's {options.step:,} creates over their wall time. p95 of "
        f"{options.renames} renames is close to their maximum. Every create uses a new email, "
        "so it also inserts the owner's account."
    )
    cpu = _cpu_note(main.cpu)
    if cpu:
        found.append(f"Main run: {cpu}.")
    return found


def draw_chart(runs: list[GrowthRun], path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = [run for run in runs if run.plan.key in {"main", "control"} and run.steps]
    if not drawn:
        return False
    figure, (latency, listing) = plt.subplots(1, 2, figsize=(12, 4.8))
    for run in drawn:
        style = "-" if run.plan.key == "main" else "--"
        label = f"{run.plan.databases} db"
        xs = [step.organizations for step in run.steps]
        for (name, attribute), color in zip(
            SERIES, ("tab:blue", "tab:orange", "tab:green"), strict=True
        ):
            latency.plot(
                xs,
                [getattr(step, attribute).p50_ms for step in run.steps],
                style,
                color=color,
                marker="o",
                label=f"{name} p50, {label}",
            )
        listing.plot(
            xs,
            [step.listing_ms for step in run.steps],
            style,
            color="tab:purple",
            marker="o",
            label=label,
        )
    latency.set_xlabel("organizations")
    latency.set_ylabel("ms")
    latency.set_title("Request latency (p50) on the in-memory store")
    latency.legend(fontsize="small")
    listing.set_xlabel("organizations")
    listing.set_ylabel("ms")
    listing.set_title("Listing the fullest tenant database's collections")
    listing.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def run_json(run: GrowthRun) -> dict[str, object]:
    return {
        "plan": asdict(run.plan),
        "seconds": run.seconds,
        "cpu": run.cpu,
        "failure": run.failure,
        "problems": run.problems,
        "steps": [
            {
                **asdict(step),
                "spread": {"min": step.spread[0], "max": step.spread[1]},
            }
            for step in run.steps
        ],
        "final_check": asdict(run.final) if run.final is not None else None,
        "fits": {
            name: asdict(found)
            for name, value in SERIES
            if (found := fit(name, run.steps, value)) is not None
        },
    }


def write_results(info: RunInfo, options: Options, runs: list[GrowthRun]) -> None:
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    if not draw_chart(runs, out / CHART):
        (out / CHART).unlink(missing_ok=True)
    (out / "placement.md").write_text(render_markdown(info, options, runs))
    document = {
        "run": {
            "command": info.command,
            "store": info.store,
            "started": info.started.isoformat(),
            "finished": info.finished.isoformat(),
            "duration_seconds": info.duration_seconds,
            "quick": info.quick,
            "machine": machine(),
            "code_at_start": info.code_at_start.describe(),
            "code_at_end": info.code_at_end.describe(),
            "options": {key: str(value) for key, value in asdict(options).items()},
        },
        "ok": not any(run.problems for run in runs),
        "runs": {run.plan.key: run_json(run) for run in runs},
    }
    (out / "placement.json").write_text(
        json.dumps(_json_safe(document), indent=2, allow_nan=False) + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    options = parse_args(argv)
    command = " ".join(["python -m bench.placement", *map(shlex.quote, argv)])
    started = datetime.now(UTC)
    code_at_start = code_revision()
    runs = asyncio.run(run_all(options))
    info = RunInfo(
        command=command,
        store=STORE,
        started=started,
        finished=datetime.now(UTC),
        repeats=1,
        quick=options.quick,
        code_at_start=code_at_start,
        code_at_end=code_revision(),
    )
    write_results(info, options, runs)
    ok = not any(run.problems for run in runs)
    say(
        f"results in {options.out} ({info.duration_seconds / 60:.1f} min){'' if ok else ', FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
