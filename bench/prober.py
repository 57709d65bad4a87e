"""An open-loop prober: requests sent at a fixed rate, whatever happened to the ones before.

A sequential prober waits for each answer before sending the next, so a server that stalls
for 200 ms is probed once during the stall and that stall counts once (coordinated omission).
Here probe i is due at start + i x interval and is sent then, on a connection of its own if
the others are busy; its latency runs from when it was due, so a late send (the prober's own
loop busy) counts against the figure rather than hiding.
"""

import asyncio
import contextlib
import time

import httpx

from bench.load import REQUEST_TIMEOUT_SECONDS, Sample
from bench.loadgen import Request, send_once

MAX_CONNECTIONS = 256


async def probe(
    base_url: str, requests: dict[str, Request], *, interval_ms: float, seconds: float
) -> dict[str, Sample]:
    """Probes every `interval_ms`, taking turns between `requests`, for `seconds`."""
    names = list(requests)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    errors = dict.fromkeys(names, 0)
    limits = httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS
    ) as client:

        async def one(name: str, due: float, number: int) -> None:
            try:
                response = await send_once(client, requests[name], f"probe-{number}")
            except httpx.HTTPError:
                errors[name] += 1
                return
            if response.is_success:
                latencies[name].append(time.perf_counter() - due)
            else:
                errors[name] += 1

        # perf_counter, not the loop's clock: uvloop's counts whole milliseconds.
        start = time.perf_counter() + 0.05
        count = int(seconds * 1000 / interval_ms)
        tasks: dict[asyncio.Task[None], str] = {}
        for number in range(count):
            due = start + number * interval_ms / 1000
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            name = names[number % len(names)]
            tasks[asyncio.create_task(one(name, due, number))] = name
        _, unanswered = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_SECONDS)
        for task in unanswered:
            errors[tasks[task]] += 1
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elapsed = time.perf_counter() - start
    return {name: Sample(latencies[name], errors[name], elapsed) for name in names}
