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
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError, WriteConcernError

T = TypeVar("T")
ATTEMPTS = 4
FIRST_PAUSE_SECONDS = 0.05


# Server error codes that say "not now" rather than "no" (MongoDB's error code list,
# src/mongo/base/error_codes.yml): the node stopped being primary or is shutting down, the
# operation was interrupted by that, or another operation holds the namespace for a moment.
TRANSIENT_CODES = frozenset(
    {
        24,  # LockTimeout
        46,  # LockBusy
        91,  # ShutdownInProgress
        112,  # WriteConflict
        117,  # ConflictingOperationInProgress (concurrent DDL on the namespace)
        189,  # PrimarySteppedDown
        262,  # ExceededTimeLimit
        10107,  # NotWritablePrimary
        11600,  # InterruptedAtShutdown
        11602,  # InterruptedDueToReplStateChange
        12586,  # BackgroundOperationInProgressForDatabase
        12587,  # BackgroundOperationInProgressForNamespace (an index build)
        13435,  # NotPrimaryNoSecondaryOk
        13436,  # NotPrimaryOrSecondary
    }
)


def is_transient(error: BaseException) -> bool:
    """Whether the same call may well succeed in a moment: a lost connection, an election,
    a namespace busy with another operation, or an error the server labels retryable."""
    if isinstance(error, ConnectionFailure):
        return True
    if (
        isinstance(error, OperationFailure)
        and not isinstance(error, WriteConcernError)
        and error.code in TRANSIENT_CODES
    ):
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
