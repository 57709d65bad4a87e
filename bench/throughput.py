"""Scenarios 2 and 3: login throughput against bcrypt's cost, and the framework floor."""

import os
import statistics
import time
import uuid

import bcrypt

from bench import api
from bench.load import Sample, Send, make_client, run_load, shared_client, warm_up, worker_clients
from bench.model import Metric, Plan, Row, Spread, Table, ratio
from bench.server import ServerOptions, running_server

SHARED = "GET /health, one shared httpx client"


def time_bcrypt(cost: int, samples: int) -> list[float]:
    timings: list[float] = []
    for _ in range(samples):
        salt = bcrypt.gensalt(cost)
        begin = time.perf_counter()
        bcrypt.hashpw(api.PASSWORD.encode(), salt)
        timings.append(time.perf_counter() - begin)
    return timings


async def login_throughput(plan: Plan) -> Table:
    cores = os.cpu_count() or 1
    concurrency = 16
    rows: list[Row] = []
    for cost in plan.bcrypt_costs:
        hashes = time_bcrypt(cost, 3 if plan.quick else 5)
        theoretical = cores / statistics.median(hashes)
        samples: list[Sample] = []
        tag = uuid.uuid4().hex[:8]
        options = ServerOptions(plan.mongo_uri, bcrypt_rounds=cost)
        async with running_server(options) as server:
            async with make_client(server.base_url) as client:
                await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
            send = api.login(api.email_for(tag, 0))
            async with worker_clients(server.base_url, concurrency) as clients:
                await warm_up(clients, send, concurrency)
                for _ in range(plan.repeats):
                    samples.append(
                        await run_load(
                            clients,
                            send,
                            duration=plan.login_seconds,
                            max_requests=plan.max_requests,
                        )
                    )
        achieved = [sample.throughput for sample in samples]
        rows.append(
            Row(
                {"cost": cost},
                {
                    "hash_ms": Spread([h * 1000 for h in hashes]),
                    "theoretical": Spread([theoretical]),
                    "achieved": Spread(achieved),
                    "ratio": ratio(achieved, [theoretical] * len(achieved)),
                    "p50_ms": Spread([sample.p50_ms for sample in samples]),
                    "p99_ms": Spread([sample.p99_ms for sample in samples]),
                    "errors": Spread([float(sample.errors) for sample in samples]),
                },
            )
        )
    table = Table(
        key="login_throughput",
        title=f"2. Login throughput vs bcrypt cost ({concurrency} concurrent clients)",
        label_headers={"cost": "BCRYPT_ROUNDS"},
        metrics=[
            Metric("hash_ms", "one hash ms (bench process)", 1),
            Metric("theoretical", "theoretical logins/s", 1),
            Metric("achieved", "achieved logins/s", 1),
            Metric("ratio", "achieved / theoretical", 2),
            Metric("p50_ms", "p50 ms", 0),
            Metric("p99_ms", "p99 ms", 0),
            Metric("errors", "errors", 0),
        ],
        rows=rows,
    )
    table.notes.append(
        f"Theoretical = cores ({cores}) / one hash's time; each login costs one bcrypt check, "
        f"hashed on PASSWORD_HASH_WORKERS (unset: one per core) threads. {plan.login_seconds:g} s "
        "per run; the load generator runs on the same cores as the server."
    )
    return table


async def _floor_run(
    base_url: str, send: Send, concurrency: int, plan: Plan, expect: int, shared: bool = False
) -> Sample:
    open_clients = shared_client if shared else worker_clients
    async with open_clients(base_url, concurrency) as clients:
        await warm_up(clients, send, 2 * concurrency)
        return await run_load(
            clients,
            send,
            duration=plan.floor_seconds,
            max_requests=plan.max_requests,
            expect=expect,
        )


async def framework_floor(plan: Plan) -> Table:
    options = ServerOptions(plan.mongo_uri, bcrypt_rounds=4)
    runs: dict[tuple[str, int], list[Sample]] = {}
    reads = ("GET /health", "GET /org/get", "GET /admin/me")
    async with running_server(options) as server:
        async with make_client(server.base_url) as client:
            tag = uuid.uuid4().hex[:8]
            account = await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
        sends = dict(
            zip(
                reads,
                (api.health(), api.get_org(account.organization_name), api.me(account.token)),
                strict=True,
            )
        )
        for _ in range(plan.repeats):
            for concurrency in plan.floor_concurrencies:
                for op, send in sends.items():
                    sample = await _floor_run(server.base_url, send, concurrency, plan, 200)
                    runs.setdefault((op, concurrency), []).append(sample)
                sample = await _floor_run(
                    server.base_url, api.health(), concurrency, plan, 200, True
                )
                runs.setdefault((SHARED, concurrency), []).append(sample)
    # Each sign-up run gets a fresh service, so no run pays for the registry an earlier one grew.
    for _ in range(plan.repeats):
        for concurrency in plan.floor_concurrencies:
            async with running_server(options) as server:
                send = api.create_org(uuid.uuid4().hex[:8])
                sample = await _floor_run(server.base_url, send, concurrency, plan, 201)
            runs.setdefault(("POST /org/create", concurrency), []).append(sample)
    rows: list[Row] = []
    for op in (*reads, "POST /org/create", SHARED):
        for concurrency in plan.floor_concurrencies:
            samples = runs[(op, concurrency)]
            floor = [sample.throughput for sample in runs[("GET /health", concurrency)]]
            throughput = [sample.throughput for sample in samples]
            rows.append(
                Row(
                    {"op": op, "concurrency": concurrency},
                    {
                        "rps": Spread(throughput),
                        "p50_ms": Spread([sample.p50_ms for sample in samples]),
                        "p99_ms": Spread([sample.p99_ms for sample in samples]),
                        "vs_floor": ratio(throughput, floor),
                        "errors": Spread([float(sample.errors) for sample in samples]),
                    },
                )
            )
    rows.append(Row({"op": "tenant-document reads/writes", "concurrency": "—"}, {}))
    table = Table(
        key="throughput_vs_floor",
        title="3. Throughput and latency vs the framework floor (BCRYPT_ROUNDS=4)",
        label_headers={"op": "Operation", "concurrency": "Concurrent clients"},
        metrics=[
            Metric("rps", "req/s", 0),
            Metric("p50_ms", "p50 ms", 2),
            Metric("p99_ms", "p99 ms", 2),
            Metric("vs_floor", "req/s ÷ floor", 2),
            Metric("errors", "errors", 0),
        ],
        rows=rows,
    )
    table.notes += [
        "The floor is `GET /health`, a trivial endpoint of the same app behind the same "
        f"middleware. {plan.floor_seconds:g} s per run after a warm-up; each sign-up run starts "
        "a fresh service so the registry is small in every run.",
        "Tenant-document reads/writes: not measured: no tenant-document API yet.",
        "The load generator (httpx, Python) shares the machine's cores with the server, so at "
        "high request rates part of the ceiling is the client's. Each concurrent client is its "
        "own single-connection httpx.AsyncClient; the last rows show the floor again with all "
        "workers on one AsyncClient whose pool is sized to the concurrency, which httpx's pool "
        "arbitration slows down (encode/httpx#3215).",
    ]
    return table
