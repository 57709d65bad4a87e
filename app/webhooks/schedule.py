"""When each attempt of a delivery is made: at once, then after each delay of `RETRY_DELAYS`
(with up to 20% jitter either way, so endpoints that failed together are not retried
together). Nine attempts over about 27 hours, after which the delivery fails."""

import random
from datetime import datetime, timedelta

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2


def next_attempt(now: datetime, attempts_made: int, rng: random.Random) -> datetime | None:
    """When to try again after `attempts_made` failed attempts; None when none is left."""
    if attempts_made >= ATTEMPTS:
        return None
    delay = RETRY_DELAYS[attempts_made - 1]
    return now + delay * rng.uniform(1 - JITTER, 1 + JITTER)
