"""Stopping background work between database calls, not in the middle of one.

PyMongo's async driver leaves a socket open when the task opening a connection is cancelled
mid-connect, so the service never cancels a background step outright: `step()` lets the first
cancellation wait for the step to end, and `stop()` cancels a second time only those tasks
still running once a grace period is over.
"""

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def step(work: Awaitable[T]) -> T:
    """Await `work` to its end even if the calling task is cancelled meanwhile: a first
    cancellation is raised once `work` is done, a second one cancels `work` itself."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if task.cancelled():
            raise
        try:
            # Awaiting the task itself: a further cancellation of this one reaches it.
            await task
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("background work failed while the service was stopping")
        raise


async def stop(tasks: Sequence[asyncio.Task[None]], grace_seconds: float) -> None:
    """Cancel `tasks`, give the steps under way `grace_seconds` to end, then interrupt the
    rest, and wait for all of them."""
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace_seconds)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
