"""`python -m bench`: run every scenario and write bench/results/."""

import argparse
import asyncio
import math
import shlex
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import uvloop

from bench import cells, charts, equal_rate, growth, loadgen, loop_health, throughput, webhooks
from bench.machine import CpuMeter, code_revision
from bench.model import Plan, Table
from bench.progress import speaker
from bench.report import MEMORY_STORE, RESULTS_DIR, RunInfo, redact_uri, write_results

# Every scenario bounds its own loops; this only guarantees that the whole run ends.
SCENARIO_TIMEOUT_SECONDS = 3600.0

say = speaker("bench")

Scenario = Callable[[Plan], Awaitable[Table]]
SCENARIOS: list[tuple[str, str, Scenario]] = [
    ("event_loop_health", "1. Event-loop health under login load", loop_health.event_loop_health),
    ("login_throughput", "2. Login throughput vs bcrypt cost", throughput.login_throughput),
    ("request_cost", "3. Request path cost vs the framework floor", cells.request_path_cost),
    ("rename_cost", "4. Rename cost vs tenant size", growth.rename_cost),
    ("registry_growth", "5. Registry growth", growth.registry_growth),
    ("webhook_delivery", "6. Webhook delivery", webhooks.webhook_delivery),
    ("equal_rate_cost", "7. Request cost at an equal offered rate", equal_rate.equal_rate_cost),
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark Tenantry as a separate server process."
    )
    parser.add_argument(
        "--mongo-uri",
        default="",
        help="a MongoDB to measure on as well (request cells), and to grow the registry and "
        "rename on instead of the nx-27017 stand-in; each run uses fresh databases and drops "
        "them (default: none; the in-memory store and the stand-in are always measured)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs per figure of the login scenarios (default 3; --quick: 1)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer requests and sizes: a smoke run"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS_DIR, help="where results go (default bench/results)"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def _failed(key: str, title: str, error: BaseException) -> Table:
    table = Table(key=key, title=title, label_headers={}, metrics=[])
    table.notes.append(f"FAILED: {type(error).__name__}: {error}")
    return table


async def run_scenarios(plan: Plan) -> tuple[list[Table], bool]:
    tables: list[Table] = []
    ok = True
    for key, title, scenario in SCENARIOS:
        say(f"{title} ...")
        begin = time.perf_counter()
        meter = CpuMeter()
        meter.start()
        try:
            table = await asyncio.wait_for(scenario(plan), SCENARIO_TIMEOUT_SECONDS)
        except Exception as exc:  # one broken scenario must not lose the others' results
            ok = False
            traceback.print_exc()
            table = _failed(key, title, exc)
        cpu = meter.stop()
        table.extra["cpu"] = cpu
        if table.rows and not math.isnan(cpu["other_processes_share"]):
            table.notes.append(
                f"While this scenario ran, other processes on the machine used "
                f"{cpu['other_processes_share']:.0%} of its CPU capacity (the bench and the "
                f"servers it started: {cpu['bench_and_server_share']:.0%}; stolen by the host: "
                f"{cpu['steal_share']:.0%})."
            )
        tables.append(table)
        other = cpu["other_processes_share"]
        load = "n/a" if math.isnan(other) else f"{other:.0%}"
        say(f"{title}: {time.perf_counter() - begin:.0f} s, other processes' load {load}")
    return tables, ok


def _stores(plan: Plan) -> str:
    stores = [MEMORY_STORE, "nx-27017 (the MongoDB wire-protocol stand-in the wire tests use)"]
    if plan.mongo_uri:
        stores.append(f"MongoDB at `{redact_uri(plan.mongo_uri)}`")
    return "; ".join(stores)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    plan = Plan.build(args.mongo_uri, args.repeats, args.quick)
    if loadgen.wrk_path() is None:
        say(f"WARNING: {loadgen.MISSING_WRK}")
    shown = [redact_uri(arg) for arg in argv]
    command = " ".join(["python -m bench", *map(shlex.quote, shown)]).strip()
    started = datetime.now(UTC)
    code_at_start = code_revision()
    # uvloop for the load generator too: the client's own overhead is part of every latency.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        tables, ok = runner.run(run_scenarios(plan))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    written = charts.draw_all({table.key: table for table in tables}, out)
    info = RunInfo(
        command=command,
        store=_stores(plan),
        started=started,
        finished=datetime.now(UTC),
        repeats=plan.repeats,
        quick=plan.quick,
        load_generator=loadgen.describe(),
        code_at_start=code_at_start,
        code_at_end=code_revision(),
    )
    write_results(out, info, tables, written)
    say(f"results in {out} ({info.duration_seconds / 60:.1f} min)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
