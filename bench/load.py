"""A concurrent HTTP load generator and a sequential prober, both on httpx.AsyncClient."""

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from bench.latency import nearest_rank_percentile

# A request to send: given a sequence number (unique within one run), returns the response.
Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]

# Queued logins at bcrypt cost 12 wait many seconds for a hashing worker; nothing legitimate
# takes a minute.
REQUEST_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Sample:
    """One measured run: latencies of the successful requests, in seconds."""

    latencies: list[float]
    errors: int
    elapsed: float

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return nearest_rank_percentile(self.latencies, 0.50) * 1000

    @property
    def p99_ms(self) -> float:
        return nearest_rank_percentile(self.latencies, 0.99) * 1000


def make_client(base_url: str, connections: int = 1) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(REQUEST_TIMEOUT_SECONDS),
    )


@asynccontextmanager
async def worker_clients(base_url: str, concurrency: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One single-connection client per worker.

    Workers sharing one client (its pool sized to the concurrency) were tried first: httpx's
    pool then spends more time arbitrating between them than the server spends answering
    (encode/httpx#3215), e.g. `GET /health` at 64 workers fell from about 450 req/s to 60.
    Separate clients keep the same number of connections without that contention.
    """
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(make_client(base_url)) for _ in range(concurrency)
        ]
        yield clients


@asynccontextmanager
async def shared_client(base_url: str, concurrency: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Every worker on one client whose pool is sized to the concurrency (for comparison)."""
    async with make_client(base_url, concurrency) as client:
        yield [client] * concurrency


async def run_load(
    clients: list[httpx.AsyncClient],
    send: Send,
    *,
    duration: float,
    max_requests: int,
    expect: int = 200,
    stop: asyncio.Event | None = None,
    first_number: int = 0,
) -> Sample:
    """One worker per client sends back to back until `duration` passes, `max_requests` have
    been started, or `stop` is set; requests already in flight are allowed to finish, and
    their time counts in `elapsed`."""
    numbers = itertools.count(first_number)
    started = 0
    latencies: list[float] = []
    errors = 0
    begin = time.perf_counter()
    deadline = begin + duration

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal started, errors
        while started < max_requests and time.perf_counter() < deadline:
            if stop is not None and stop.is_set():
                return
            started += 1
            t0 = time.perf_counter()
            try:
                response = await send(client, next(numbers))
            except httpx.HTTPError:
                errors += 1
                continue
            t1 = time.perf_counter()
            if response.status_code == expect:
                latencies.append(t1 - t0)
            else:
                errors += 1

    workers = [asyncio.create_task(worker(client)) for client in clients]
    hard_limit = duration + REQUEST_TIMEOUT_SECONDS + 10
    try:
        await asyncio.wait_for(asyncio.gather(*workers), timeout=hard_limit)
    finally:
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return Sample(latencies, errors, time.perf_counter() - begin)


async def probe(
    client: httpx.AsyncClient,
    sends: dict[str, Send],
    *,
    rounds: int,
    time_limit: float,
) -> dict[str, Sample]:
    """Sequential probes, one request in flight at a time, taking turns between `sends`.

    Sequential on purpose: a probe measures how long the server takes to answer while
    something else loads it, not how the prober itself queues.
    """
    latencies: dict[str, list[float]] = {name: [] for name in sends}
    errors = dict.fromkeys(sends, 0)
    begin = time.perf_counter()
    for number in range(rounds):
        if time.perf_counter() - begin > time_limit:
            break
        for name, send in sends.items():
            t0 = time.perf_counter()
            try:
                response = await send(client, number)
            except httpx.HTTPError:
                errors[name] += 1
                continue
            if response.status_code == 200:
                latencies[name].append(time.perf_counter() - t0)
            else:
                errors[name] += 1
    elapsed = time.perf_counter() - begin
    return {name: Sample(latencies[name], errors[name], elapsed) for name in sends}


async def warm_up(clients: list[httpx.AsyncClient], send: Send, requests: int) -> None:
    """Open every connection and take first-request costs out of the measured run."""
    await run_load(
        clients,
        send,
        duration=10.0,
        max_requests=max(requests, len(clients)),
        first_number=10**9,
    )
