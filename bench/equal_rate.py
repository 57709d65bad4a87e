"""Request cost at one offered rate: the floor and the service loaded alike.

Under closed-loop load (scenario 3) each server runs as fast as it can, and a fast one
answers several requests per turn of its event loop where a slow one answers one: its CPU
per request falls with its own speed, so the ratio to the floor mixes what a request costs
with how far apart the two servers' rates are. Here an open-loop prober sends the same
fixed rate to the floor and to the service, so both run at the same throughput, and the
server's idle CPU (its background work, the driver's monitoring) is measured just before
each window and subtracted.
"""

import asyncio
import math
import uuid
from contextlib import AsyncExitStack

from bench import cells
from bench.loadgen import Request
from bench.machine import process_cpu_seconds
from bench.measure import Target, quiet
from bench.model import TIMES, Metric, Plan, Row, Spread, Table
from bench.prober import probe
from bench.progress import speaker
from bench.stores import opened

say = speaker("bench")

RATE_PER_SECOND = 200
CELLS = ("GET /org/get", "GET …/documents/{doc}", "GET …/documents/{doc} (API key)")


async def cpu_per_request(target: Target, request: Request, seconds: float) -> tuple[float, int]:
    """The server's CPU ms per request at `RATE_PER_SECOND`, less its idle CPU, and the
    requests that failed."""
    idle_seconds = max(1.0, seconds / 2)
    start = process_cpu_seconds(target.pid)
    await asyncio.sleep(idle_seconds)
    idle_per_second = (process_cpu_seconds(target.pid) - start) / idle_seconds
    before = process_cpu_seconds(target.pid)
    found = await probe(
        target.base_url,
        {"request": request.with_tag(uuid.uuid4().hex[:8])},
        interval_ms=1000 / RATE_PER_SECOND,
        seconds=seconds,
    )
    spent = await quiet(target.pid) - before
    sample = found["request"]
    sent = sample.ok + sample.errors
    if not sent:
        return math.nan, 0
    busy = spent - idle_per_second * sample.elapsed
    return busy / sent * 1000, sample.errors


async def equal_rate_cost(plan: Plan) -> Table:
    table = Table(
        key="equal_rate_cost",
        title=f"7. Request cost at an equal offered rate ({RATE_PER_SECOND} requests/s)",
        label_headers={"store": "Store", "op": "Operation"},
        metrics=[
            Metric("cpu_ms", "server CPU ms/request", 3),
            Metric("cpu_vs_floor", f"CPU {TIMES} floor", 2),
            Metric("failed", "failed", 0),
        ],
    )
    seconds = float(plan.cell_seconds * 3)
    for kind in plan.stores:
        async with opened(kind, plan.mongo_uri) as store, AsyncExitStack() as stack:
            floor = await cells.start_floor(stack, store, "bare")
            service, accounts, _ = await cells.start_service(stack, store)
            chosen = [
                cell
                for cell in cells.read_cells(accounts, plan.cell_connections)
                if cell.name in CELLS
            ]
            runs: dict[str, list[float]] = {cell.name: [] for cell in chosen}
            ratios: dict[str, list[float]] = {cell.name: [] for cell in chosen}
            failed: dict[str, list[float]] = {cell.name: [] for cell in chosen}
            floors: list[float] = []
            for round_number in range(plan.cell_rounds):
                say(f"  {store.label}: round {round_number + 1} of {plan.cell_rounds}")
                for cell in chosen:
                    floor_ms, _ = await cpu_per_request(floor, cells.floor_request("read"), seconds)
                    ms, errors = await cpu_per_request(service, cell.request, seconds)
                    floors.append(floor_ms)
                    runs[cell.name].append(ms)
                    ratios[cell.name].append(ms / floor_ms if floor_ms > 0 else math.nan)
                    failed[cell.name].append(float(errors))
            table.rows.append(
                Row({"store": store.label, "op": cells.FLOOR}, {"cpu_ms": Spread(floors)})
            )
            for cell in chosen:
                labels: dict[str, str | int] = {"store": store.label, "op": cell.name}
                lost = sum(failed[cell.name])
                if lost:
                    # Failed requests cost less than answered ones: no figure to show.
                    table.rows.append(Row(labels, {"failed": Spread(failed[cell.name])}))
                    table.notes.append(
                        f"{store.label}, {cell.name}: {lost:.0f} requests failed; not measured."
                    )
                    continue
                figures = {
                    "cpu_ms": Spread(runs[cell.name]),
                    "cpu_vs_floor": Spread(ratios[cell.name]),
                    "failed": Spread(failed[cell.name]),
                }
                table.rows.append(Row(labels, figures))
    table.notes += [
        f"An open-loop prober (the one of scenarios 1 and 5) sends {RATE_PER_SECOND} "
        f"requests/s for {seconds:.0f} s to the read floor, then the same to the service, "
        f"for each operation in turn, {plan.cell_rounds} rounds; the {TIMES} floor column is "
        "the median of the per-round ratios. Both servers therefore answer the same "
        "throughput, unlike scenario 3's closed loop, where the floor runs several times "
        "faster than the service and so spends less per request on each turn of its loop.",
        "Server CPU: the process's CPU over the window, less its idle CPU per second (measured "
        "for half the window's length just before it) times the window, divided by the "
        "requests sent. The prober runs on the same cores.",
        "The service runs as in scenario 3 (BCRYPT_ROUNDS=4, no recovery sweeps).",
    ]
    return table
