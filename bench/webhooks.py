"""Scenario 6: webhook delivery, from a change to its receipt.

A receiver on loopback (in this process) takes every delivery of one endpoint subscribed
to `document.created`. Documents are created at a steady rate, each request's return
(the change in effect) timed; the lag of a change is from that moment to the receipt of
its delivery, on the same clock. A burst (as fast as 8 connections can create) then shows
how many deliveries per second one instance sends when changes come faster than that.
"""

import asyncio
import contextlib
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from bench import api
from bench.load import make_client
from bench.model import Metric, Plan, Row, Spread, Table
from bench.progress import speaker
from bench.server import ServerOptions, running_server
from bench.stores import opened

say = speaker("bench")

BURST_CONNECTIONS = 8
# How long the last deliveries may take to arrive once the changes stopped.
DRAIN_SECONDS = 60.0


@dataclass
class Receiver:
    """Keeps when each delivered document's event arrived (monotonic clock)."""

    port: int = 0
    arrived: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    arrival: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        now = time.monotonic()
        document_id = json.loads(b"".join(chunks))["data"]["id"]
        if document_id in self.arrived:
            self.duplicates += 1
        else:
            self.arrived[document_id] = now
        self.arrival.set()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    config = uvicorn.Config(
        receiver, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    receiver.port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


@dataclass
class Window:
    """The changes one load window made: document id -> when its request returned."""

    done: dict[str, float] = field(default_factory=dict)
    started: float = 0.0

    def lags_ms(self, receiver: Receiver) -> list[float]:
        return [
            (receiver.arrived[doc] - at) * 1000
            for doc, at in self.done.items()
            if doc in receiver.arrived
        ]

    async def drained(self, receiver: Receiver) -> None:
        deadline = time.monotonic() + DRAIN_SECONDS
        while not all(d in receiver.arrived for d in self.done):
            receiver.arrival.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(receiver.arrival.wait(), left)


async def _create(client: Any, owner: api.Account, window: Window) -> None:
    document_id = await api.create_document(client, owner)
    window.done[document_id] = time.monotonic()


async def steady(client: Any, owner: api.Account, rate: int, seconds: int) -> Window:
    """`rate` changes a second for `seconds`, each sent on schedule whatever came before."""
    window = Window(started=time.monotonic())
    tasks = []
    for number in range(rate * seconds):
        due = window.started + number / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(_create(client, owner, window)))
    await asyncio.gather(*tasks)
    return window


async def burst(client: Any, owner: api.Account, count: int) -> Window:
    window = Window(started=time.monotonic())
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            await _create(client, owner, window)

    await asyncio.gather(*(worker() for _ in range(BURST_CONNECTIONS)))
    return window


def _percentile(values: list[float], fraction: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


METRICS = [
    Metric("sent", "changes/s sent", 1),
    Metric("delivered", "deliveries/s", 1),
    Metric("p50", "lag p50, ms", 1),
    Metric("p99", "lag p99, ms", 1),
    Metric("lost", "not delivered", 0),
]


def _row(store: str, load: str, window: Window, receiver: Receiver) -> Row:
    lags = window.lags_ms(receiver)
    arrivals = [receiver.arrived[d] for d in window.done if d in receiver.arrived]
    elapsed_sent = max(window.done.values()) - window.started
    elapsed_delivered = (max(arrivals) - window.started) if arrivals else float("nan")
    figures = {
        "sent": Spread([len(window.done) / elapsed_sent]),
        "delivered": Spread([len(arrivals) / elapsed_delivered]),
        "p50": Spread([_percentile(lags, 0.50)]),
        "p99": Spread([_percentile(lags, 0.99)]),
        "lost": Spread([float(len(window.done) - len(arrivals))]),
    }
    return Row({"store": store, "load": load}, figures)


async def webhook_delivery(plan: Plan) -> Table:
    table = Table(
        "webhook_delivery",
        "6. Webhook delivery: change to receipt",
        {"store": "store", "load": "load"},
        METRICS,
    )
    rates = (20,) if plan.quick else (20, 100)
    seconds = 5 if plan.quick else 10
    burst_size = 200 if plan.quick else 1000
    for kind in plan.stores:
        if kind == "wire":
            table.notes.append(
                "Not measured on nx-27017: equality on a non-`_id` ObjectId field never matches "
                "there, and an organization's endpoints and events are found by its id."
            )
            continue
        async with opened(kind, plan.mongo_uri) as store, receiving() as receiver:
            options = ServerOptions(
                mongo_uri=store.uri,
                bcrypt_rounds=4,
                # Plain http to a loopback receiver: what development allows.
                extra_env=(
                    ("ENVIRONMENT", "development"),
                    ("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
                ),
            )
            async with (
                running_server(options) as server,
                make_client(server.base_url, BURST_CONNECTIONS) as client,
            ):
                tag = uuid.uuid4().hex[:8]
                owner = await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
                await api.subscribe(
                    client, owner, f"http://127.0.0.1:{receiver.port}/in", ["document.created"]
                )
                for rate in rates:
                    say(f"webhooks on {store.label}: {rate} changes/s for {seconds}s")
                    window = await steady(client, owner, rate, seconds)
                    await window.drained(receiver)
                    table.rows.append(_row(store.label, f"steady {rate}/s", window, receiver))
                say(f"webhooks on {store.label}: a burst of {burst_size} changes")
                window = await burst(client, owner, burst_size)
                await window.drained(receiver)
                table.rows.append(_row(store.label, f"burst of {burst_size}", window, receiver))
                if receiver.duplicates:
                    table.notes.append(
                        f"{store.label}: {receiver.duplicates} deliveries arrived twice "
                        "(at-least-once delivery)."
                    )
    table.notes.append(
        "One service instance with its delivery worker (default concurrency), one endpoint "
        "subscribed to `document.created`, the receiver on loopback answering 204 at once. "
        "Lag: from the return of the request that made the change to the delivery's arrival. "
        f"A burst is sent over {BURST_CONNECTIONS} connections as fast as they go; deliveries/s "
        "counts from the first change to the last arrival."
    )
    return table
