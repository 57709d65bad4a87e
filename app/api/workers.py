"""The background work of the event outbox, the webhooks and the domain checks, for
`app.startup`."""

from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from app.api.state import Services
from app.events.outbox import settle_periodically


def event_work(services: Services) -> list[Coroutine[Any, Any, None]]:
    settings = services.settings
    work: list[Coroutine[Any, Any, None]] = []
    if settings.event_settle_interval_seconds:
        work.append(
            settle_periodically(
                services.outbox,
                timedelta(seconds=settings.event_settle_seconds),
                timedelta(seconds=settings.event_settle_interval_seconds),
            )
        )
    if settings.invitation_expiry_sweep_seconds:
        every = settings.invitation_expiry_sweep_seconds
        work.append(services.expiry_notices.run_periodically(every))
    if settings.domain_recheck_interval_seconds:
        recheck = timedelta(seconds=settings.domain_recheck_interval_seconds)
        work.append(services.domains.run_periodically(recheck))
    if settings.webhook_worker:
        work.append(services.webhook_worker.run())
    return work
