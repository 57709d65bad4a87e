"""Scenarios 4 and 5: how costs grow with a tenant's size and with the registry's size."""

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

import bcrypt
import httpx
from bson import ObjectId
from pymongo import AsyncMongoClient

from app.access.roles import Role
from app.accounts.models import Account, Membership, membership_id
from app.db.naming import identifier_for, name_key, tenant_collection_for
from app.db.schema import ACCOUNTS, IDENTIFIER_CLAIMS, MEMBERSHIPS, ORGANIZATIONS
from app.registry.models import LifecycleState, Organization
from bench import api
from bench.in_process import memory_settings, running_service
from bench.load import Sample, make_client, run_load
from bench.model import Metric, Plan, Row, Spread, Table
from bench.server import ServerOptions, running_server

Document = dict[str, object]
InsertMany = Callable[[list[Document]], Awaitable[object]]
SEED_BATCH = 10_000
REGISTRY_BATCH = 1_000
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


async def _renames_over_http(size: int, plan: Plan) -> tuple[list[float], bool]:
    """Renames against the server process; also whether it fell back to copying."""
    async with running_server(ServerOptions(plan.mongo_uri, bcrypt_rounds=4)) as server:
        async with httpx.AsyncClient(
            base_url=server.base_url, timeout=RENAME_TIMEOUT_SECONDS
        ) as client:
            tag = uuid.uuid4().hex[:8]
            account = await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
            mongo: AsyncMongoClient[Document] = AsyncMongoClient(plan.mongo_uri)
            try:
                tenants = mongo[server.tenant_db][account.tenant_collection]
                await seed_tenant(tenants.insert_many, size)
            finally:
                await mongo.close()
            timings = await _timed_renames(client, account, size, plan)
        stderr = server.stderr_text()
    return timings, "refused" in stderr or "acknowledged but not done" in stderr


async def rename_cost(plan: Plan) -> Table:
    rows: list[Row] = []
    fell_back = False
    strategies = ("rename", "copy") if plan.in_memory else ("auto",)
    for strategy in strategies:
        for size in plan.rename_sizes:
            if plan.in_memory:
                timings = await _renames_in_process(strategy, size, plan)
            else:
                timings, copied = await _renames_over_http(size, plan)
                fell_back = fell_back or copied
            rows.append(
                Row(
                    {"strategy": strategy, "documents": size},
                    {
                        "seconds": Spread(timings),
                        "docs_per_s": Spread([size / t for t in timings if t > 0]),
                        "runs": Spread([float(len(timings))]),
                    },
                )
            )
    table = Table(
        key="rename_cost",
        title="4. Rename cost vs tenant size (`PUT /org/update`)",
        label_headers={"strategy": "TENANT_MOVE_STRATEGY", "documents": "documents"},
        metrics=[
            Metric("seconds", "rename s", 3),
            Metric("docs_per_s", "documents/s", 0),
            Metric("runs", "runs", 0),
        ],
        rows=rows,
    )
    if plan.in_memory:
        table.notes += [
            "**This scenario runs in-process on the in-memory store** (mongomock): a tenant "
            "collection cannot be seeded from another process, so the app is driven through "
            "httpx's ASGI transport inside the bench process, not over TCP.",
            "`rename` is expected flat (renameCollection moves metadata only); what growth it "
            "shows comes from counting the documents, which mongomock does by scanning. For "
            "`copy` the documents/s column is the figure of interest; on mongomock it falls with "
            "size because its cursor does work per document that grows with the collection, so "
            "it says little about a real MongoDB.",
        ]
    else:
        table.notes.append(
            "Against the server process on the given MongoDB, seeded with pymongo directly; "
            "the default strategy (auto). "
            + (
                "The server refused or ignored renameCollection, so auto fell back to copying."
                if fell_back
                else "renameCollection was used (no fallback to copying was logged)."
            )
        )
    table.notes.append(
        "Renames alternate between two names; a configuration is not repeated once it has "
        f"used {plan.rename_budget_seconds:g} s (see the runs column)."
    )
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


async def registry_growth(plan: Plan) -> Table:
    table = Table(
        key="registry_growth",
        title="5. Cost growth against registry size (BCRYPT_ROUNDS=4)",
        label_headers={"organizations": "organizations present", "op": "Operation"},
        metrics=[
            Metric("p50_ms", "p50 ms", 2),
            Metric("p99_ms", "p99 ms", 2),
            Metric("rps", "req/s (sequential)", 0),
            Metric("errors", "errors", 0),
        ],
    )
    if plan.in_memory:
        table.notes.append("skipped: the in-memory store scans; run with --mongo-uri")
        return table
    password_hash = bcrypt.hashpw(api.PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    async with running_server(ServerOptions(plan.mongo_uri, bcrypt_rounds=4)) as server:
        mongo: AsyncMongoClient[Mapping[str, object]] = AsyncMongoClient(plan.mongo_uri)
        try:
            master = mongo[server.primary_db]
            seeded = 0
            for size in plan.registry_sizes:
                # Sign-ups measured at the previous size count towards this one.
                missing = max(0, size - await master[ORGANIZATIONS].count_documents({}))
                for start in range(seeded, seeded + missing, REGISTRY_BATCH):
                    count = min(REGISTRY_BATCH, seeded + missing - start)
                    for collection, docs in registry_documents(start, count, password_hash).items():
                        await master[collection].insert_many(docs)
                seeded += missing
                present = await master[ORGANIZATIONS].count_documents({})
                names = [f"Registry Seed {n}" for n in range(0, seeded, max(1, seeded // 500))]
                runs = await _registry_runs(server.base_url, names, plan)
                for op, samples in runs.items():
                    table.rows.append(_registry_row(present, op, samples))
        finally:
            await mongo.close()
    table.notes.append(
        "Registry entries, owner accounts, memberships and identifier claims are inserted "
        "directly with pymongo "
        "(state active; no tenant collections are created for them). Requests are sequential; "
        f"{plan.registry_requests} per operation per run; lookups cycle through up to 500 "
        "seeded names. The count shown is what the registry held when measuring began."
    )
    return table


async def _registry_runs(base_url: str, names: list[str], plan: Plan) -> dict[str, list[Sample]]:
    runs: dict[str, list[Sample]] = {"POST /org/create": [], "GET /org/get": []}
    async with make_client(base_url) as client:
        for _ in range(plan.repeats):
            for op, send, expect in (
                ("POST /org/create", api.create_org(uuid.uuid4().hex[:8]), 201),
                ("GET /org/get", api.get_any_org(names), 200),
            ):
                runs[op].append(
                    await run_load(
                        [client],
                        send,
                        duration=REGISTRY_RUN_SECONDS,
                        max_requests=plan.registry_requests,
                        expect=expect,
                    )
                )
    return runs


def _registry_row(present: int, op: str, samples: list[Sample]) -> Row:
    return Row(
        {"organizations": present, "op": op},
        {
            "p50_ms": Spread([sample.p50_ms for sample in samples]),
            "p99_ms": Spread([sample.p99_ms for sample in samples]),
            "rps": Spread([sample.throughput for sample in samples]),
            "errors": Spread([float(sample.errors) for sample in samples]),
        },
    )
