"""The Python load generator (httpx.AsyncClient): the fallback when wrk is missing, and set-up
calls."""

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
        return self.percentile_ms(0.99)

    def percentile_ms(self, share: float) -> float:
        return nearest_rank_percentile(self.latencies, share) * 1000


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
