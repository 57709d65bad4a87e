"""Running a step again when the database failed it for a passing reason.

Multi-step writes cannot be committed at once without a replica set's transactions, so each
has a step after which its change is in effect (a registry switch, a membership gone). Steps
before it are undone when one fails, and what remains after it is finished: both are
idempotent, and both go through `again`, so that one failover or dropped connection in the
middle of a flow neither leaves it half done nor reports as failed a change that took effect.
The driver's own retryable writes already retry a write once; this covers reads and the
commands it does not retry, and failures that outlast its one retry.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from pymongo.errors import ConnectionFailure, PyMongoError

T = TypeVar("T")
ATTEMPTS = 4
FIRST_PAUSE_SECONDS = 0.05


def is_transient(error: BaseException) -> bool:
    """Whether the same call may well succeed in a moment: a lost connection, an election,
    or an error the server labels retryable."""
    if isinstance(error, ConnectionFailure):
        return True
    return isinstance(error, PyMongoError) and error.has_error_label("RetryableWriteError")


async def again(step: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
    """`step()`, tried up to `attempts` times while it fails transiently, pausing a little
    longer each time. `step` must be safe to repeat."""
    pause = FIRST_PAUSE_SECONDS
    for _ in range(attempts - 1):
        try:
            return await step()
        except PyMongoError as error:
            if not is_transient(error):
                raise
        await anyio.sleep(pause)
        pause *= 2
    return await step()
