"""The delivery worker: one per instance, as a background task.

Each round it queues the deliveries of newly committed events (once per event and endpoint,
whatever crash repeats the round: a delivery's `_id` is `<event>:<endpoint>`), then claims
due deliveries and attempts them. A claim is a lease on the delivery (an owner token and an
expiry on the server's clock, taken by one conditional update), longer than an attempt can
last, so two instances never attempt the same delivery at once; a delivery whose worker died
is claimed again once its lease expires, so deliveries survive restarts (at least once: an
attempt whose result was lost with its process is made again). Concurrency is bounded per
instance (`WEBHOOK_CONCURRENCY`) and per endpoint within it (`WEBHOOK_ENDPOINT_CONCURRENCY`).
Times of attempts and retries come from an injected clock; leases from the server's.
"""

import asyncio
import contextlib
import logging
import math
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bson import ObjectId

from app.events.catalogue import EventType
from app.events.models import SYSTEM
from app.events.outbox import Outbox
from app.events.repository import EventRepository
from app.kit.stopping import step
from app.observability.metrics import Metrics
from app.webhooks.endpoint_subjects import endpoint_data, endpoint_subject
from app.webhooks.messages import body, wants
from app.webhooks.models import Delivery, DeliveryState, Dormancy, Endpoint, Outcome
from app.webhooks.repository import DeliveryRepository, EndpointRepository
from app.webhooks.schedule import next_attempt
from app.webhooks.secrets import SecretBox
from app.webhooks.sender import Sender
from app.webhooks.signing import signed_headers

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
_FANOUT_BATCH = 100
_SHOW_QUEUE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    concurrency: int
    per_endpoint: int
    lease: timedelta
    disable_after: timedelta
    poll: timedelta


class DeliveryWorker:
    def __init__(
        self,
        events: EventRepository,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        sender: Sender,
        box: SecretBox,
        outbox: Outbox,
        limits: WorkerLimits,
        *,
        metrics: Metrics | None = None,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self._events = events
        self._endpoints = endpoints
        self._deliveries = deliveries
        self._sender = sender
        self._box = box
        self._outbox = outbox
        self._limits = limits
        self._metrics = metrics
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.owner = secrets.token_hex(8)
        self._running: Counter[ObjectId] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something to do (an event committed, a delivery queued): start a round now."""
        self._wake.set()

    async def fan_out(self) -> int:
        """Queue a delivery of each newly committed event to each endpoint that wants it."""
        queued = 0
        batch = await self._events.awaiting_fanout(_FANOUT_BATCH)
        endpoints_of: dict[ObjectId, list[Endpoint]] = {}
        for event in batch:
            if event.organization_id not in endpoints_of:
                endpoints_of[event.organization_id] = await self._endpoints.enabled_of(
                    event.organization_id
                )
            endpoints = endpoints_of[event.organization_id]
            payload = body(event)
            for endpoint in endpoints:
                # An endpoint hears of what happens once it exists (replay reaches earlier).
                if wants(endpoint, event.type) and endpoint.created_at <= event.occurred_at:
                    key = f"{event.id}:{endpoint.id}"
                    if await self._deliveries.enqueue(
                        endpoint, event.id, event.type, payload, self._clock(), key=key
                    ):
                        queued += 1
        # Marked once the whole batch is queued: a crash before repeats the batch, and a
        # delivery's `_id` keeps a repeat from queueing anything twice.
        await self._events.fanned_out([event.id for event in batch])
        return queued

    async def start_attempts(self) -> int:
        """Claim due deliveries while this instance has room; each runs as its own task."""
        started = 0
        while len(self._tasks) < self._limits.concurrency:
            busy = [e for e, n in self._running.items() if n >= self._limits.per_endpoint]
            delivery = await self._deliveries.claim(
                self._clock(), self.owner, self._limits.lease, busy
            )
            if delivery is None:
                break
            self._running[delivery.endpoint_id] += 1
            task = asyncio.create_task(self._attempt(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def remove_purged(self) -> int:
        """Remove the endpoints of purged organizations (with their deliveries and attempts)
        once nothing is left to send them: every event of the organization fanned out, and
        no delivery to its endpoints still pending. How many were removed."""
        removed = 0
        waiting: dict[ObjectId, bool] = {}
        for endpoint in await self._endpoints.purged(_FANOUT_BATCH):
            organization_id = endpoint.organization_id
            if organization_id not in waiting:
                waiting[organization_id] = not await self._events.settled_for(
                    organization_id
                ) or await self._deliveries.any_pending(organization_id)
            if waiting[organization_id]:
                continue
            # The endpoint goes last: a round that stops halfway is finished by the next.
            await self._deliveries.remove_all_of(endpoint.id)
            await self._endpoints.remove(endpoint.id)
            removed += 1
        return removed

    async def round(self) -> None:
        """One round, waiting for the attempts it started (what tests step through)."""
        await self.fan_out()
        await self.start_attempts()
        await self.drain()
        await self.remove_purged()

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run(self) -> None:
        """Rounds for as long as the service runs: woken by commits, else every `poll`."""
        shown_at = -math.inf
        try:
            while True:
                # Busy rounds come by the hundred a second; the gauges and the removal of
                # purged organizations' endpoints need not.
                show = time.monotonic() - shown_at >= _SHOW_QUEUE_SECONDS
                if show:
                    shown_at = time.monotonic()
                try:
                    await step(self._run_round(show))
                except Exception:
                    logger.exception("webhook worker round failed; trying again")
                # Not `asyncio.wait_for`: on Python 3.11 it swallows a cancellation that comes
                # as the wake-up does, and the worker would not stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._limits.poll.total_seconds()):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            # Attempts under way are let finish, so that their outcome is recorded, unless
            # the service interrupts them (a cancellation reaches them through the gather).
            try:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            finally:
                await self._sender.close()

    async def _run_round(self, show: bool) -> None:
        await self.fan_out()
        await self.start_attempts()
        if show:
            await self.remove_purged()
            await self.show_queue()

    async def close(self) -> None:
        await self._sender.close()

    async def show_queue(self) -> None:
        if self._metrics is None:
            return
        self._metrics.webhook_queue_depth.set(await self._deliveries.queue_depth())
        self._metrics.events_awaiting_fanout.set(await self._events.fanout_backlog())
        oldest = await self._deliveries.oldest_pending()
        now = self._clock()
        age = (now - oldest.replace(tzinfo=now.tzinfo)).total_seconds() if oldest else 0
        self._metrics.webhook_oldest_pending.set(max(age, 0))

    async def _attempt(self, delivery: Delivery) -> None:
        try:
            await self._attempt_once(delivery)
        except Exception:
            # The lease expires and the delivery is claimed again.
            logger.exception("webhook delivery %s: attempt failed unexpectedly", delivery.id)
        finally:
            self._running[delivery.endpoint_id] -= 1
            if self._running[delivery.endpoint_id] <= 0:
                del self._running[delivery.endpoint_id]
            self.wake()

    async def _attempt_once(self, delivery: Delivery) -> None:
        endpoint = await self._endpoints.by_id(delivery.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            await self._deliveries.finish(delivery, self.owner, DeliveryState.FAILED, None)
            return
        if not endpoint.sends(delivery.event_type):
            if endpoint.dormant is Dormancy.DELETED:
                await self._deliveries.hold(delivery, self.owner)
            else:
                await self._deliveries.finish(delivery, self.owner, DeliveryState.FAILED, None)
            return
        now = self._clock()
        secrets_now = [
            self._box.open(endpoint.id, s.sealed) for s in endpoint.secrets if s.live(now)
        ]
        headers = signed_headers(
            delivery.message_id, now, delivery.payload, [s for s in secrets_now if s]
        )
        outcome = await self._sender.send(endpoint.url, delivery.payload, headers)
        await self._deliveries.log(delivery, now, outcome)
        if outcome.succeeded:
            await self._deliveries.finish(delivery, self.owner, DeliveryState.DELIVERED, None)
            if endpoint.failing_since is not None:
                await self._endpoints.working(endpoint.id)
            self._count("delivered", outcome)
            return
        due = next_attempt(self._clock(), delivery.attempts + 1, self._rng)
        state = DeliveryState.PENDING if due else DeliveryState.FAILED
        if not await self._deliveries.finish(delivery, self.owner, state, due):
            logger.warning("webhook delivery %s: lease lost during the attempt", delivery.id)
        refused = (outcome.error or "").startswith("refused")
        self._count("refused" if refused else "retrying" if due else "failed", outcome)
        if endpoint.dormant is not Dormancy.PURGED:  # nothing is recorded of a purged one
            await self._note_failure(endpoint, now)

    async def _note_failure(self, endpoint: Endpoint, at: datetime) -> None:
        since = await self._endpoints.failing(endpoint.id, at)
        if self._clock() - since < self._limits.disable_after:
            return
        reason = f"every attempt failed since {since.isoformat()}"
        async with self._outbox.recording(
            EventType.WEBHOOK_ENDPOINT_DISABLED,
            endpoint.organization_id,
            SYSTEM,
            {**endpoint_data(endpoint), "enabled": False, "disabled_reason": reason},
            endpoint_subject(endpoint, enabled=False),
        ) as draft:
            if not await self._endpoints.disable(endpoint.id, reason):
                draft.skip()
        await self._deliveries.fail_pending_of(endpoint.id)
        logger.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)

    def _count(self, outcome_name: str, outcome: Outcome) -> None:
        if self._metrics is not None:
            self._metrics.webhook_deliveries.labels(outcome_name).inc()
            self._metrics.webhook_latency.observe(outcome.latency_ms / 1000)
