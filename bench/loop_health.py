"""Scenario 1: does login load (bcrypt in worker threads) slow everything else down?"""

import asyncio
import os
import re
import tempfile
import uuid
from pathlib import Path

from bench import api, asyncio_debug
from bench.load import Sample, make_client, probe, run_load, warm_up, worker_clients
from bench.model import TIMES, Metric, Plan, Row, Spread, Table, ratio
from bench.server import BLOCKING_ROUTE, ServerOptions, running_server

TARGET_P99_RATIO = 2.0
# asyncio's debug-mode report of a callback that held the loop over slow_callback_duration.
SLOW_CALLBACK = re.compile(r"Executing .* took (\d+(?:\.\d+)?) seconds")
PROBE_TIME_LIMIT = 90.0
# Long enough for every hashing worker to be busy and a queue to form before probing.
LOGIN_SETTLE_SECONDS = 1.5
LOGIN_LOAD_CAP_SECONDS = 300.0
DEFAULT_WORKERS = "unset (one per core)"


def _label(logins: int) -> str:
    return "idle" if logins == 0 else f"{logins} concurrent logins"


async def loop_health_pass(base_url: str, account: api.Account, plan: Plan) -> dict[str, Sample]:
    """Idle probes, then probes under each login concurrency; keys like `/health@8`."""
    sends = {"/health": api.health(), "/org/get": api.get_org(account.organization_name)}
    found: dict[str, Sample] = {}
    async with make_client(base_url) as prober:
        for send in sends.values():
            await warm_up([prober], send, 20)
        idle = await probe(prober, sends, rounds=plan.probe_rounds, time_limit=PROBE_TIME_LIMIT)
        found.update({f"{name}@0": sample for name, sample in idle.items()})
        for logins in plan.login_concurrencies:
            async with worker_clients(base_url, logins) as clients:
                stop = asyncio.Event()
                load = asyncio.create_task(
                    run_load(
                        clients,
                        api.login(account.email),
                        duration=LOGIN_LOAD_CAP_SECONDS,
                        max_requests=plan.max_requests,
                        stop=stop,
                    )
                )
                await asyncio.sleep(LOGIN_SETTLE_SECONDS)
                loaded = await probe(
                    prober, sends, rounds=plan.probe_rounds, time_limit=PROBE_TIME_LIMIT
                )
                # In-flight logins finish before the next phase, so no queued hashing spills over.
                stop.set()
                found[f"logins@{logins}"] = await load
            found.update({f"{name}@{logins}": sample for name, sample in loaded.items()})
    return found


def _rows(passes: list[dict[str, Sample]], plan: Plan, workers: str) -> list[Row]:
    rows: list[Row] = []
    for endpoint in ("/health", "/org/get"):
        idle_p99 = [run[f"{endpoint}@0"].p99_ms for run in passes]
        for logins in (0, *plan.login_concurrencies):
            samples = [run[f"{endpoint}@{logins}"] for run in passes]
            p99 = [sample.p99_ms for sample in samples]
            ratios = ratio(p99, idle_p99)
            figures = {
                "p50_ms": Spread([sample.p50_ms for sample in samples]),
                "p99_ms": Spread(p99),
                "p99_ratio": ratios,
                "probes": Spread([float(sample.ok) for sample in samples]),
            }
            if logins:
                load = [run[f"logins@{logins}"] for run in passes]
                figures["logins_per_s"] = Spread([sample.throughput for sample in load])
                figures["login_errors"] = Spread([float(sample.errors) for sample in load])
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


async def _passes(plan: Plan, options: ServerOptions, runs: int) -> list[dict[str, Sample]]:
    tag = uuid.uuid4().hex[:8]
    async with running_server(options) as server:
        async with make_client(server.base_url) as client:
            account = await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
        return [await loop_health_pass(server.base_url, account, plan) for _ in range(runs)]


def slow_callbacks(stderr: str) -> list[float]:
    return [float(match.group(1)) for match in SLOW_CALLBACK.finditer(stderr)]


async def _blocking_control(plan: Plan, loop: str, workdir: Path) -> int:
    """Slow-callback warnings logged when a route blocks the loop for 250 ms: must be > 0 for
    a zero elsewhere to mean anything."""
    options = ServerOptions(
        plan.mongo_uri, bcrypt_rounds=4, loop=loop, asyncio_debug=True, blocking_control=True
    )
    stderr_path = workdir / f"control-{loop.replace(':', '-')}.stderr"
    async with running_server(options, stderr_path) as server, make_client(server.base_url) as c:
        (await c.get(BLOCKING_ROUTE)).raise_for_status()
    return len(slow_callbacks(stderr_path.read_text(errors="replace")))


async def _debug_mode_check(plan: Plan) -> dict[str, object]:
    """One pass on the stock asyncio loop in debug mode, with controls that must warn."""
    with tempfile.TemporaryDirectory(prefix="tenantry-bench-debug-") as name:
        workdir = Path(name)
        literal = await _blocking_control(plan, "asyncio", workdir)
        fixed = await _blocking_control(plan, asyncio_debug.LOOP, workdir)
        stderr_path = workdir / "debug.stderr"
        options = ServerOptions(
            plan.mongo_uri, bcrypt_rounds=12, loop=asyncio_debug.LOOP, asyncio_debug=True
        )
        tag = uuid.uuid4().hex[:8]
        async with running_server(options, stderr_path) as server:
            async with make_client(server.base_url) as client:
                account = await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
            debug_pass = await loop_health_pass(server.base_url, account, plan)
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
        "p99_ms_in_debug_mode": {k: s.p99_ms for k, s in debug_pass.items() if "/" in k},
    }


async def event_loop_health(plan: Plan) -> Table:
    default = ServerOptions(plan.mongo_uri, bcrypt_rounds=12)
    rows = _rows(await _passes(plan, default, plan.repeats), plan, DEFAULT_WORKERS)
    cores = os.cpu_count() or 1
    if cores > 1:
        # Diagnostic: one core left to the event loop instead of none.
        spare = ServerOptions(
            plan.mongo_uri,
            bcrypt_rounds=12,
            extra_env=(("PASSWORD_HASH_WORKERS", str(cores - 1)),),
        )
        rows += _rows(await _passes(plan, spare, 1), plan, str(cores - 1))
    debug = await _debug_mode_check(plan)
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
            Metric("p99_ratio", "p99 / idle p99", 2),
            Metric("logins_per_s", "logins/s", 1),
            Metric("login_errors", "failed logins", 0),
            Metric("probes", "probes", 0),
        ],
        rows=rows,
        extra={"asyncio_debug": debug, "cores": cores},
    )
    table.notes += [
        f"Target: p99 under login load within {TARGET_P99_RATIO:.0f}{TIMES} of the idle p99 "
        "(ratios are per run, against that run's idle phase). A sequential prober sends "
        f"{plan.probe_rounds} probes per endpoint per phase while logins (`POST /admin/login`, "
        "correct password) loop concurrently; logins/s is what the login load achieved.",
        f"The rows with PASSWORD_HASH_WORKERS={cores - 1} are a diagnostic (one run), not the "
        f"service's default: bcrypt then leaves one of the {cores} cores to the event loop.",
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
