"""Scenarios 4 and 5: how costs grow with a tenant's size and with the registry's size."""

import asyncio
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import bcrypt
import httpx
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from app.access.roles import Role
from app.accounts.models import Account, Membership, membership_id
from app.db.naming import identifier_for, name_key, tenant_collection_for
from app.db.schema import ACCOUNTS, IDENTIFIER_CLAIMS, MEMBERSHIPS, ORGANIZATIONS
from app.registry.models import LifecycleState, Organization
from bench import api
from bench.in_process import memory_settings, running_service
from bench.load import make_client
from bench.machine import process_cpu_seconds
from bench.measure import commands_sent, scrape_cost
from bench.model import Metric, Plan, Row, Spread, Table
from bench.prober import probe
from bench.progress import speaker
from bench.server import (
    STARTUP_SECONDS,
    RunningServer,
    ServerOptions,
    drop_databases,
    fresh_database_name,
    running_server,
)
from bench.stores import StoreUnderTest, opened

say = speaker("bench")

Document = dict[str, object]
InsertMany = Callable[[list[Document]], Awaitable[object]]
SEED_BATCH = 10_000
REGISTRY_BATCH = 1_000
GROWTH_TENANT_DATABASES = 4
GROWTH_REQUESTS_PER_SECOND = 10
SWEEP_SCRAPE_SECONDS = 0.5
# A copy of 100k documents can take minutes; one request may, nothing should take longer.
RENAME_TIMEOUT_SECONDS = 900.0
REGISTRY_RUN_SECONDS = 120.0


async def seed_tenant(insert_many: InsertMany, size: int) -> None:
    for start in range(0, size, SEED_BATCH):
        stop = min(size, start + SEED_BATCH)
        await insert_many([{"n": n, "label": f"document {n}"} for n in range(start, stop)])


async def _timed_renames(
    client: httpx.AsyncClient, account: api.Account, size: int, plan: Plan
) -> list[float]:
    """Rename back and forth `repeats` times, stopping early once the time budget is spent."""
    names = [f"{account.organization_name} Renamed", account.organization_name]
    timings: list[float] = []
    spent = 0.0
    for repeat in range(plan.repeats):
        if timings and spent > plan.rename_budget_seconds:
            break
        begin = time.perf_counter()
        moved = await api.rename(client, account, names[repeat % 2])
        elapsed = time.perf_counter() - begin
        if moved.get("documents_migrated") != size:
            raise RuntimeError(f"rename moved {moved.get('documents_migrated')} of {size}")
        timings.append(elapsed)
        spent += elapsed
    return timings


async def _renames_in_process(strategy: str, size: int, plan: Plan) -> list[float]:
    settings = memory_settings(tenant_move_strategy=strategy)
    async with running_service(settings, RENAME_TIMEOUT_SECONDS) as service:
        tag = uuid.uuid4().hex[:8]
        account = await api.sign_up(service.client, api.org_name_for(tag, 0), api.email_for(tag, 0))
        tenants = service.store.tenant_database("")[account.tenant_collection]
        await seed_tenant(tenants.insert_many, size)
        return await _timed_renames(service.client, account, size, plan)


async def _renames_over_http(
    store: StoreUnderTest, size: int, plan: Plan
) -> tuple[list[float], bool]:
    """Renames against the server process; also whether it fell back to copying."""
    async with running_server(ServerOptions(store.uri, bcrypt_rounds=4)) as server:
        async with httpx.AsyncClient(
            base_url=server.base_url, timeout=RENAME_TIMEOUT_SECONDS
        ) as client:
            tag = uuid.uuid4().hex[:8]
            account = await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
            mongo: AsyncMongoClient[Document] = AsyncMongoClient(store.uri)
            try:
                tenants = mongo[server.tenant_db][account.tenant_collection]
                await seed_tenant(tenants.insert_many, size)
            finally:
                await mongo.close()
            timings = await _timed_renames(client, account, size, plan)
        stderr = server.stderr_text()
    return timings, "refused" in stderr or "acknowledged but not done" in stderr


def _rename_row(where: str, strategy: str, size: int, timings: list[float]) -> Row:
    return Row(
        {"store": where, "strategy": strategy, "documents": size},
        {
            "seconds": Spread(timings),
            "docs_per_s": Spread([size / t for t in timings if t > 0]),
            "runs": Spread([float(len(timings))]),
        },
    )


async def rename_cost(plan: Plan) -> Table:
    table = Table(
        key="rename_cost",
        title="4. Rename cost vs tenant size (`PUT /org/update`)",
        label_headers={
            "store": "Store",
            "strategy": "TENANT_MOVE_STRATEGY",
            "documents": "documents",
        },
        metrics=[
            Metric("seconds", "rename s", 3),
            Metric("docs_per_s", "documents/s", 0),
            Metric("runs", "runs", 0),
        ],
    )
    configurations = [("rename", size) for size in plan.rename_sizes] + [
        ("copy", size) for size in plan.copy_sizes
    ]
    for strategy, size in configurations:
        timings = await _renames_in_process(strategy, size, plan)
        table.rows.append(_rename_row("in-memory, in process", strategy, size, timings))
    fell_back = False
    async with opened(plan.growth_store, plan.mongo_uri) as store:
        # The stand-in refuses renameCollection, so auto copies there: copy sizes only.
        sizes = plan.rename_sizes if plan.mongo_uri else plan.copy_sizes
        for size in sizes:
            try:
                timings, copied = await _renames_over_http(store, size, plan)
            except RuntimeError as failed:
                table.notes.append(f"{store.label}, {size:,} documents: FAILED: {failed}")
                continue
            fell_back = fell_back or copied
            table.rows.append(_rename_row(store.label, "auto", size, timings))
        where = store.label
    table.notes += [
        "**The in-memory rows run in-process** (mongomock): a tenant collection in another "
        "process's memory cannot be seeded, so the app is driven through httpx's ASGI "
        "transport inside the bench process, not over TCP. `rename` is expected flat "
        "(renameCollection moves metadata only); what growth it shows comes from counting the "
        "documents, which mongomock does by scanning. For `copy` the documents/s column is the "
        "figure of interest; on mongomock it falls with size because its cursor does work per "
        "document that grows with the collection, so it says little about a real MongoDB.",
        f"The {where} rows run against the server process, the tenant collection seeded with "
        "pymongo directly, with the default strategy (auto): "
        + (
            "the server refused or ignored renameCollection, so auto fell back to copying."
            if fell_back
            else "renameCollection was used (no fallback to copying was logged)."
        ),
        "Renames alternate between two names; a configuration is not repeated once it has "
        f"used {plan.rename_budget_seconds:g} s (see the runs column).",
    ]
    return table


def registry_documents(start: int, count: int, password_hash: str) -> dict[str, list[Document]]:
    """Active organizations with their owner's account, membership and identifier claim,
    built with the service's own models so they are shaped exactly as it writes them."""
    now = datetime.now(UTC)
    batches: dict[str, list[Document]] = {
        collection: [] for collection in (ORGANIZATIONS, ACCOUNTS, MEMBERSHIPS, IDENTIFIER_CLAIMS)
    }
    for number in range(start, start + count):
        name = f"Registry Seed {number}"
        identifier = identifier_for(name)
        organization = Organization(
            id=ObjectId(),
            name=name,
            name_key=name_key(name),
            identifier=identifier,
            tenant_collection=tenant_collection_for(identifier),
            admin_id=ObjectId(),
            state=LifecycleState.ACTIVE,
            created_at=now,
            modified_at=now,
        )
        account = Account(
            id=organization.admin_id,
            email=f"seed-{number}@bench.example.com",
            password_hash=password_hash,
            organization_id=organization.id,
            created_at=now,
        )
        membership = Membership(
            id=membership_id(account.id, organization.id),
            account_id=account.id,
            organization_id=organization.id,
            role=Role.OWNER,
            created_at=now,
        )
        batches[ORGANIZATIONS].append(organization.to_document())
        batches[ACCOUNTS].append(account.to_document())
        batches[MEMBERSHIPS].append(membership.to_document())
        batches[IDENTIFIER_CLAIMS].append(
            {"_id": identifier, "organization_id": organization.id, "claimed_at": now}
        )
    return batches


@dataclass(frozen=True)
class Sweeps:
    """Background work while the service sits idle: the commands of each complete sweep (a
    burst of commands between quiet scrapes), and the CPU the server spent meanwhile."""

    per_sweep: list[int]
    cpu_share: float
    commands: int


async def idle_sweeps(
    metrics: httpx.AsyncClient, pid: int, scrape: Counter[str], seconds: float
) -> Sweeps:
    loop = asyncio.get_running_loop()
    deltas: list[int] = []
    cpu_before = process_cpu_seconds(pid)
    begin = loop.time()
    last = await commands_sent(metrics)
    while loop.time() - begin < seconds:
        await asyncio.sleep(SWEEP_SCRAPE_SECONDS)
        now = await commands_sent(metrics)
        deltas.append(sum((now - last - scrape).values()))
        last = now
    cpu_share = (process_cpu_seconds(pid) - cpu_before) / (loop.time() - begin)
    bursts: list[int] = []
    current = 0
    opened_at_start = bool(deltas and deltas[0])
    for delta in deltas:
        if delta:
            current += delta
        elif current:
            bursts.append(current)
            current = 0
    # A burst cut off by the start or the end of the window is not a whole sweep.
    whole = bursts[1:] if opened_at_start else bursts
    return Sweeps(whole, cpu_share, sum(deltas))


def _idle_seconds(plan: Plan) -> float:
    """Long enough to see a few whole sweeps between quiet scrapes."""
    return max(float(plan.registry_seconds), 3.0 * plan.sweep_interval_seconds + 2)


def _growth_environment(plan: Plan) -> tuple[tuple[str, str], ...]:
    interval = str(plan.sweep_interval_seconds)
    return (
        ("RECOVERY_INTERVAL_SECONDS", interval),
        # Least-filled placement over several databases: the registry is counted per database.
        ("TENANT_DB_COUNT", str(GROWTH_TENANT_DATABASES)),
    )


async def _fill(master: AsyncDatabase[Document], target: int, password_hash: str) -> None:
    present = await master[ORGANIZATIONS].count_documents({})
    seeded = await master[ORGANIZATIONS].count_documents({"name": {"$regex": "^Registry Seed"}})
    for start in range(seeded, seeded + max(0, target - present), REGISTRY_BATCH):
        count = min(REGISTRY_BATCH, seeded + target - present - start)
        for collection, docs in registry_documents(start, count, password_hash).items():
            await master[collection].insert_many(docs)


@dataclass(frozen=True)
class StartUp:
    seconds: float
    commands: float


async def start_up(options: ServerOptions) -> StartUp:
    """A second instance started on the registry as it is: how long until `/health` answers
    (uvicorn answers once the lifespan's start-up is done) and what it sent until then."""
    begin = time.perf_counter()
    async with running_server(options) as server:
        seconds = time.perf_counter() - begin
        async with make_client(server.base_url) as metrics:
            at_start = await commands_sent(metrics)
            scrape = await scrape_cost(metrics)
    return StartUp(seconds, float(sum((at_start - scrape).values())))


async def _measured(server: RunningServer, size: int, plan: Plan) -> dict[str, Spread]:
    """Idle sweeps, then open-loop sign-ups and look-ups, on the running instance."""
    async with make_client(server.base_url) as metrics:
        scrape = await scrape_cost(metrics)
        sweeps = await idle_sweeps(metrics, server.pid, scrape, _idle_seconds(plan))
    cpu_before = process_cpu_seconds(server.pid)
    probes = await probe(
        server.base_url,
        {
            "create": api.sign_up_request().with_tag(uuid.uuid4().hex[:8]),
            "get": api.get_org(f"Registry Seed {size // 2}"),
        },
        interval_ms=1000 / (2 * GROWTH_REQUESTS_PER_SECOND),
        seconds=plan.registry_seconds,
    )
    busy = process_cpu_seconds(server.pid) - cpu_before
    served = sum(sample.ok + sample.errors for sample in probes.values())
    return {
        "sweep_commands": Spread([float(n) for n in sweeps.per_sweep]),
        "idle_cpu": Spread([sweeps.cpu_share]),
        "create_p50": Spread([probes["create"].p50_ms]),
        "create_p99": Spread([probes["create"].p99_ms]),
        "get_p50": Spread([probes["get"].p50_ms]),
        "get_p99": Spread([probes["get"].p99_ms]),
        "cpu_ms": Spread([busy / served * 1000 if served else math.nan]),
        "errors": Spread([float(sum(sample.errors for sample in probes.values()))]),
    }


async def _growth_rows(store: StoreUnderTest, plan: Plan) -> tuple[list[Row], list[str]]:
    password_hash = bcrypt.hashpw(api.PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    primary_db = fresh_database_name()
    options = ServerOptions(
        store.uri,
        bcrypt_rounds=4,
        primary_db=primary_db,
        extra_env=_growth_environment(plan),
        startup_seconds=plan.growth_startup_limit_seconds,
    )
    mongo: AsyncMongoClient[Document] = AsyncMongoClient(store.uri)
    rows: list[Row] = []
    notes: list[str] = []
    master = mongo[primary_db]
    try:
        await _fill(master, plan.registry_sizes[0], password_hash)
        async with running_server(replace(options, startup_seconds=STARTUP_SECONDS)) as server:
            starting = True
            for size in plan.registry_sizes:
                # Filled under the running instance: it needs no restart to see the registry.
                await _fill(master, size, password_hash)
                present = await master[ORGANIZATIONS].count_documents({})
                say(f"  {present:,} organizations")
                figures = await _measured(server, size, plan)
                if starting:
                    try:
                        started = await start_up(options)
                    except RuntimeError:
                        starting = False
                        notes.append(
                            f"At {present:,} organizations a second instance did not answer "
                            f"`/health` within {plan.growth_startup_limit_seconds:g} s; start-up "
                            "was not measured at this size or above."
                        )
                    else:
                        figures["start_s"] = Spread([started.seconds])
                        figures["start_commands"] = Spread([started.commands])
                rows.append(Row({"organizations": present}, figures))
    finally:
        await drop_databases(store.uri, [primary_db, *_tenant_databases(primary_db)])
        await mongo.close()
    return rows, notes


def _tenant_databases(primary_db: str) -> list[str]:
    default = f"{primary_db}_tenants"
    return [default, *(f"{default}_{n}" for n in range(1, GROWTH_TENANT_DATABASES + 1))]


async def registry_growth(plan: Plan) -> Table:
    interval = plan.sweep_interval_seconds
    table = Table(
        key="registry_growth",
        title="5. Registry growth with the recovery sweep and placement running (BCRYPT_ROUNDS=4)",
        label_headers={"organizations": "organizations present"},
        metrics=[
            Metric("start_s", "start-up s", 1),
            Metric("start_commands", "start-up DB commands", 0),
            Metric("sweep_commands", "DB commands per sweep", 0),
            Metric("idle_cpu", "idle server CPU (cores)", 3),
            Metric("create_p50", "create p50 ms", 1),
            Metric("create_p99", "create p99 ms", 1),
            Metric("get_p50", "/org/get p50 ms", 1),
            Metric("get_p99", "/org/get p99 ms", 1),
            Metric("cpu_ms", "server CPU ms/request", 2),
            Metric("errors", "errors", 0),
        ],
    )
    async with opened(plan.growth_store, plan.mongo_uri) as store:
        table.rows, failures = await _growth_rows(store, plan)
        where = store.label
    table.notes += [
        f"On {where}. One instance runs throughout with RECOVERY_INTERVAL_SECONDS={interval} "
        f"and TENANT_DB_COUNT={GROWTH_TENANT_DATABASES} (least-filled placement counts the "
        "registry per database); under it the registry is filled to each size by inserting "
        "organizations, their owners' accounts, memberships and identifier claims built with "
        "the service's own models (state active, no tenant collections).",
        "Start-up s: a second instance started on the registry at that size, from starting the "
        "process to the first answer of `/health` (uvicorn answers only once the lifespan's "
        "start-up is done); start-up DB commands: that instance's own command count "
        "(`/metrics`) at that moment, its first capacity count included. The first instance "
        "keeps sweeping meanwhile.",
        f"Sweeps: for {_idle_seconds(plan):g} s with no requests, `/metrics` is scraped every "
        f"{SWEEP_SCRAPE_SECONDS:g} s (less what a scrape sends itself); each burst of "
        "commands between quiet scrapes is one sweep (bursts cut off by the window's edges "
        "left out). Idle server CPU is the server's CPU time over that window ÷ its length.",
        f"Then an open-loop prober sends {GROWTH_REQUESTS_PER_SECOND} sign-ups/s and "
        f"{GROWTH_REQUESTS_PER_SECOND} `/org/get`/s of a seeded name for "
        f"{plan.registry_seconds} s, latency from each request's due time; server CPU "
        "ms/request is the server's CPU over that window ÷ the requests, background work "
        "included. Sign-ups made at one size count towards the next.",
        *failures,
    ]
    return table
