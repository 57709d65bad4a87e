"""Scenario 2: login throughput against bcrypt's cost."""

import os
import statistics
import time
import uuid

import bcrypt

from bench import api, loadgen
from bench.load import make_client
from bench.loadgen import LoadResult
from bench.measure import quiet
from bench.model import Metric, Plan, Row, Spread, Table, ratio
from bench.server import ServerOptions, running_server
from bench.stores import MEMORY_URI


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
        samples: list[LoadResult] = []
        tag = uuid.uuid4().hex[:8]
        options = ServerOptions(MEMORY_URI, bcrypt_rounds=cost)
        async with running_server(options) as server:
            async with make_client(server.base_url) as client:
                await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
            login = api.login(api.email_for(tag, 0))
            # Warm-up: every connection open and every hashing worker started.
            await loadgen.run(
                server.base_url, login, connections=concurrency, seconds=1, expect=200
            )
            for _ in range(plan.repeats):
                # The logins left queued by the run before are finished first.
                await quiet(server.pid)
                samples.append(
                    await loadgen.run(
                        server.base_url,
                        login,
                        connections=concurrency,
                        seconds=plan.login_seconds,
                        expect=200,
                    )
                )
        achieved = [sample.rps for sample in samples]
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
                    "errors": Spread([float(sample.failed) for sample in samples]),
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
        "per run on the in-memory store; the load generator "
        f"({loadgen.describe()}) "
        "runs on the same cores as the server."
    )
    return table
