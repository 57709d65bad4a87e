"""One measured load window: closed-loop load, and what the server processes spent on it.

Server CPU is read from `/proc/<pid>/stat` (user + system time, every thread) right before
the load and once the server has gone quiet after it (wrk leaves one request in flight per
connection, which the server finishes); divided by the requests it served, it is CPU per
request. On a store reached over the wire the service counts the MongoDB commands it sends
(its `/metrics`); the difference of two scrapes, less what a scrape itself sends, is the
commands the window's requests made.
"""

import asyncio
import math
import re
from collections import Counter
from dataclasses import dataclass

import httpx

from bench import loadgen
from bench.loadgen import LoadResult, Request
from bench.machine import process_cpu_seconds

_COMMAND_COUNT = re.compile(
    r'^tenantry_mongodb_command_duration_seconds_count\{command="([^"]+)"\} (\S+)$', re.M
)


@dataclass(frozen=True)
class Window:
    load: LoadResult
    server_cpu_seconds: float
    store_cpu_seconds: float
    commands: Counter[str] | None = None

    def per_request_ms(self, cpu_seconds: float) -> float:
        served = self.load.served
        return cpu_seconds / served * 1000 if self.load.completed else math.nan

    @property
    def server_cpu_ms(self) -> float:
        return self.per_request_ms(self.server_cpu_seconds)

    @property
    def store_cpu_ms(self) -> float:
        return self.per_request_ms(self.store_cpu_seconds)

    @property
    def commands_per_request(self) -> float:
        if self.commands is None or not self.load.completed:
            return math.nan
        return sum(self.commands.values()) / self.load.served


async def commands_sent(client: httpx.AsyncClient) -> Counter[str]:
    """MongoDB commands the service has sent since it started, by command name."""
    response = await client.get("/metrics")
    response.raise_for_status()
    return Counter(
        {name: round(float(value)) for name, value in _COMMAND_COUNT.findall(response.text)}
    )


async def scrape_cost(client: httpx.AsyncClient) -> Counter[str]:
    """What one `/metrics` scrape sends itself (the fewest of a few back-to-back scrapes)."""
    before = await commands_sent(client)
    costs: list[Counter[str]] = []
    for _ in range(3):
        after = await commands_sent(client)
        costs.append(after - before)
        before = after
    return min(costs, key=lambda cost: sum(cost.values()))


QUIET_POLL_SECONDS = 0.05
QUIET_LIMIT_SECONDS = 30.0


async def quiet(pid: int) -> float:
    """The process's CPU seconds once two polls in a row saw it spend none (or at the limit):
    the requests left in flight when the load stopped have then been served."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + QUIET_LIMIT_SECONDS
    last = process_cpu_seconds(pid)
    still = 0
    while still < 2 and loop.time() < deadline:
        await asyncio.sleep(QUIET_POLL_SECONDS)
        now = process_cpu_seconds(pid)
        still = still + 1 if now == last else 0
        last = now
    return last


@dataclass(frozen=True)
class Target:
    """A server process to load, and what to read around the load."""

    base_url: str
    pid: int
    # The store's server process (the stand-in), when it runs on this machine.
    store_pid: int | None = None
    # Set for the service on a store reached over the wire: count its commands.
    metrics: httpx.AsyncClient | None = None
    scrape: Counter[str] | None = None


async def window(
    target: Target, request: Request, *, connections: int, seconds: int, expect: int
) -> Window:
    counted = target.metrics is not None and target.scrape is not None
    before = await commands_sent(target.metrics) if counted and target.metrics else None
    store_before = process_cpu_seconds(target.store_pid) if target.store_pid else math.nan
    server_before = process_cpu_seconds(target.pid)
    load = await loadgen.run(
        target.base_url, request, connections=connections, seconds=seconds, expect=expect
    )
    server_after = await quiet(target.pid)
    store_after = process_cpu_seconds(target.store_pid) if target.store_pid else math.nan
    commands: Counter[str] | None = None
    if before is not None and target.metrics is not None and target.scrape is not None:
        commands = (await commands_sent(target.metrics)) - before - target.scrape
    return Window(load, server_after - server_before, store_after - store_before, commands)
