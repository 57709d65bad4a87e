"""Scenario 1: does login load (bcrypt in worker threads) slow everything else down?

Logins are loaded by the closed-loop generator (wrk when installed) while an open-loop prober
sends `GET /health` and `GET /org/get` at a fixed rate; probe latency runs from each probe's
due time.
"""

import asyncio
import math
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench import api, asyncio_debug, loadgen
from bench.load import Sample, make_client
from bench.loadgen import LoadResult
from bench.measure import quiet
from bench.model import TIMES, Metric, Plan, Row, Spread, Table, ratio
from bench.prober import probe
from bench.server import BLOCKING_ROUTE, ServerOptions, running_server
from bench.stores import MEMORY_URI

TARGET_P99_RATIO = 2.0
# asyncio's debug-mode report of a callback that held the loop over slow_callback_duration.
SLOW_CALLBACK = re.compile(r"Executing .* took (\d+(?:\.\d+)?) seconds")
# Long enough for every hashing worker to be busy and a queue to form before probing.
LOGIN_SETTLE_SECONDS = 1.5
DEFAULT_WORKERS = "unset (one per core)"


def _label(logins: int) -> str:
    return "idle" if logins == 0 else f"{logins} concurrent logins"


@dataclass(frozen=True)
class Pass:
    """One pass: probe samples keyed `<endpoint>@<concurrent logins>`, and the login loads."""

    probes: dict[str, Sample]
    logins: dict[int, LoadResult]


async def loop_health_pass(base_url: str, pid: int, account: api.Account, plan: Plan) -> Pass:
    """Idle probes, then probes under each login concurrency."""
    probes = {"/health": api.health(), "/org/get": api.get_org(account.organization_name)}
    found: dict[str, Sample] = {}
    logins: dict[int, LoadResult] = {}

    async def probed(seconds: float) -> dict[str, Sample]:
        return await probe(base_url, probes, interval_ms=plan.probe_interval_ms, seconds=seconds)

    await probed(1.0)  # warm-up: connections opened, first-request costs paid
    idle = await probed(plan.probe_seconds)
    found.update({f"{name}@0": sample for name, sample in idle.items()})
    load_seconds = math.ceil(LOGIN_SETTLE_SECONDS + plan.probe_seconds + 1)
    for concurrency in plan.login_concurrencies:
        load = asyncio.create_task(
            loadgen.run(
                base_url,
                api.login(account.email),
                connections=concurrency,
                seconds=load_seconds,
                expect=200,
            )
        )
        await asyncio.sleep(LOGIN_SETTLE_SECONDS)
        loaded = await probed(plan.probe_seconds)
        logins[concurrency] = await load
        # Logins still queued for a hashing worker finish before the next phase.
        await quiet(pid)
        found.update({f"{name}@{concurrency}": sample for name, sample in loaded.items()})
    return Pass(found, logins)


def _rows(passes: list[Pass], plan: Plan, workers: str) -> list[Row]:
    rows: list[Row] = []
    for endpoint in ("/health", "/org/get"):
        idle_p99 = [run.probes[f"{endpoint}@0"].p99_ms for run in passes]
        for logins in (0, *plan.login_concurrencies):
            samples = [run.probes[f"{endpoint}@{logins}"] for run in passes]
            p99 = [sample.p99_ms for sample in samples]
            ratios = ratio(p99, idle_p99)
            figures = {
                "p50_ms": Spread([sample.p50_ms for sample in samples]),
                "p99_ms": Spread(p99),
                "max_ms": Spread([sample.percentile_ms(1.0) for sample in samples]),
                "p99_ratio": ratios,
                "probes": Spread([float(sample.ok) for sample in samples]),
                "probe_errors": Spread([float(sample.errors) for sample in samples]),
            }
            if logins:
                load = [run.logins[logins] for run in passes]
                figures["logins_per_s"] = Spread([result.rps for result in load])
                figures["login_errors"] = Spread([float(result.failed) for result in load])
            met = "—" if not logins else "yes" if ratios.median <= TARGET_P99_RATIO else "NO"
            labels: dict[str, str | int] = {
                "workers": workers,
                "endpoint": endpoint,
                "load": _label(logins),
                "logins": logins,
                "met": met,
            }
            rows.append(Row(labels, figures))
    return rows


async def _passes(plan: Plan, options: ServerOptions, runs: int) -> list[Pass]:
    """`runs` passes on one service, on the in-memory store: the question is the event loop's,
    and a database process beside it would take a share of the two cores the hashing needs."""
    tag = uuid.uuid4().hex[:8]
    async with running_server(options) as server:
        async with make_client(server.base_url) as client:
            account = await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
        return [
            await loop_health_pass(server.base_url, server.pid, account, plan) for _ in range(runs)
        ]


def slow_callbacks(stderr: str) -> list[float]:
    return [float(match.group(1)) for match in SLOW_CALLBACK.finditer(stderr)]


async def _blocking_control(loop: str, workdir: Path) -> int:
    """Slow-callback warnings logged when a route blocks the loop for 250 ms: must be > 0 for
    a zero elsewhere to mean anything."""
    options = ServerOptions(
        MEMORY_URI, bcrypt_rounds=4, loop=loop, asyncio_debug=True, blocking_control=True
    )
    stderr_path = workdir / f"control-{loop.replace(':', '-')}.stderr"
    async with running_server(options, stderr_path) as server, make_client(server.base_url) as c:
        (await c.get(BLOCKING_ROUTE)).raise_for_status()
    return len(slow_callbacks(stderr_path.read_text(errors="replace")))


async def _debug_mode_check(plan: Plan) -> dict[str, object]:
    """One pass on the stock asyncio loop in debug mode, with controls that must warn."""
    with tempfile.TemporaryDirectory(prefix="tenantry-bench-debug-") as name:
        workdir = Path(name)
        literal = await _blocking_control("asyncio", workdir)
        fixed = await _blocking_control(asyncio_debug.LOOP, workdir)
        stderr_path = workdir / "debug.stderr"
        options = ServerOptions(
            MEMORY_URI, bcrypt_rounds=12, loop=asyncio_debug.LOOP, asyncio_debug=True
        )
        tag = uuid.uuid4().hex[:8]
        async with running_server(options, stderr_path) as server:
            async with make_client(server.base_url) as client:
                account = await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
            debug_pass = await loop_health_pass(server.base_url, server.pid, account, plan)
        stderr = stderr_path.read_text(errors="replace")
    slow = slow_callbacks(stderr)
    return {
        "loop": asyncio_debug.LOOP,
        "slow_callbacks": len(slow),
        "slowest_seconds": max(slow, default=0.0),
        "took_lines": [line for line in stderr.splitlines() if "took" in line][:50],
        "stderr_lines": len(stderr.splitlines()),
        "error_lines": [line for line in stderr.splitlines() if " ERROR " in line][:20],
        "control_literal_asyncio_loop": literal,
        "control_debug_loop": fixed,
        "p99_ms_in_debug_mode": {k: s.p99_ms for k, s in debug_pass.probes.items()},
    }


async def event_loop_health(plan: Plan) -> Table:
    default = ServerOptions(MEMORY_URI, bcrypt_rounds=12)
    rows = _rows(await _passes(plan, default, plan.repeats), plan, DEFAULT_WORKERS)
    cores = os.cpu_count() or 1
    diagnostic = cores > 1 and not plan.quick
    if diagnostic:
        # One core left to the event loop instead of none.
        spare = ServerOptions(
            MEMORY_URI,
            bcrypt_rounds=12,
            extra_env=(("PASSWORD_HASH_WORKERS", str(cores - 1)),),
        )
        rows += _rows(await _passes(plan, spare, 1), plan, str(cores - 1))
    debug = None if plan.quick else await _debug_mode_check(plan)
    table = Table(
        key="event_loop_health",
        title="1. Event-loop health under login load (BCRYPT_ROUNDS=12)",
        label_headers={
            "workers": "PASSWORD_HASH_WORKERS",
            "endpoint": "Probe",
            "load": "Load",
            "met": f"p99 within 2{TIMES} idle",
        },
        metrics=[
            Metric("p50_ms", "p50 ms", 2),
            Metric("p99_ms", "p99 ms", 2),
            Metric("max_ms", "max ms", 1),
            Metric("p99_ratio", "p99 / idle p99", 2),
            Metric("logins_per_s", "logins/s", 1),
            Metric("login_errors", "failed logins", 0),
            Metric("probes", "probes", 0),
            Metric("probe_errors", "failed probes", 0),
        ],
        rows=rows,
        extra={"asyncio_debug": debug, "cores": cores},
    )
    rate = 1000 / plan.probe_interval_ms
    table.notes.append(
        f"Target: p99 under login load within {TARGET_P99_RATIO:.0f}{TIMES} of the idle p99 "
        "(ratios are per run, against that run's idle phase), on the in-memory store. An "
        f"open-loop prober sends a probe every {plan.probe_interval_ms:g} ms ({rate:g}/s, the "
        f"two endpoints taking turns) for {plan.probe_seconds:g} s per phase, each when it is "
        "due whether or not earlier ones were answered, and times it from its due time, so a "
        "stall counts once for every probe it delays (no coordinated omission). Logins "
        "(`POST /admin/login`, correct password) come from the closed-loop load generator "
        f"({loadgen.describe()}); logins/s is what it achieved."
    )
    if diagnostic:
        table.notes.append(
            f"The rows with PASSWORD_HASH_WORKERS={cores - 1} are a diagnostic (one run), not "
            f"the service's default: bcrypt then leaves one of the {cores} cores to the loop."
        )
    if debug is None:
        table.notes.append("`--quick`: no asyncio debug-mode pass and no diagnostic rows.")
        return table
    table.notes += [
        f"Slow-callback warnings (blocking over 100 ms) in one pass of this scenario in asyncio "
        f"debug mode: **{debug['slow_callbacks']}** (expected 0); slowest "
        f"{debug['slowest_seconds']} s; {debug['stderr_lines']} stderr lines in all.",
        "`--loop asyncio` with `PYTHONASYNCIODEBUG=1` does not enable debug mode here: uvicorn "
        "0.54 on Python 3.11 runs the loop through `asyncio.Runner(debug=False)`, which turns "
        "it off again. A control route blocking the loop for 250 ms logged "
        f"{debug['control_literal_asyncio_loop']} warning(s) that way. The pass above therefore "
        f"ran with `--loop {asyncio_debug.LOOP}` (the same asyncio selector loop, keeping "
        f"debug mode on when PYTHONASYNCIODEBUG is set), where the control logged "
        f"{debug['control_debug_loop']}: the warnings do reach stderr through the service's "
        "logging set-up.",
    ]
    return table
