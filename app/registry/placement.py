"""Which tenant database a new organization's collection goes to.

The pool is configured (`TENANT_DATABASES`, or `TENANT_DB_COUNT` with `TENANT_DB_PREFIX`); the
choice is recorded in the registry, so changing the pool or the policy never moves an existing
organization. Two policies:

- least-filled: the database holding the fewest tenant collections. Counts come from the
  registry (one indexed count per database), read in the background every `refresh_seconds`
  and kept current in between by counting this instance's own placements, so a create sends
  no query for its placement. The registry stays the only record of the counts: nothing is
  kept beside it that a crash between two writes could leave wrong, and every instance reads
  the same numbers at its next refresh.
- hash: rendezvous hashing of the organization's id over the pool. Stable for a given pool,
  and growing the pool from N to N+1 databases changes only about 1/(N+1) of the choices.
  It needs no counts, so it reads none.

Either way, a database the capacity monitor reports at its limit is skipped while another
has room. Ties are broken by the same hash, so instances whose counts agree still spread
their placements.
"""

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from enum import StrEnum

from bson import ObjectId

from app.kit.stopping import step

logger = logging.getLogger(__name__)

CountCollections = Callable[[], Awaitable[dict[str, int]]]


class PlacementPolicy(StrEnum):
    LEAST_FILLED = "least-filled"
    HASH = "hash"


def rendezvous_weight(organization_id: ObjectId, database: str) -> int:
    digest = hashlib.sha256(organization_id.binary + database.encode()).digest()
    return int.from_bytes(digest[:8], "big")


class TenantPlacement:
    def __init__(
        self,
        pool: Sequence[str],
        policy: PlacementPolicy,
        count_collections: CountCollections,
        *,
        default_database: str,
        refresh_seconds: float = 30,
        full_databases: Callable[[], set[str]] = set,
    ) -> None:
        if not pool:
            raise ValueError("the tenant database pool is empty")
        self.pool = list(pool)
        self.policy = policy
        self.refresh_interval = timedelta(seconds=refresh_seconds)
        self._count_collections = count_collections
        self._default_database = default_database
        self._full_databases = full_databases
        self._counts: dict[str, int] = {}
        self._counted = False
        self._lock = asyncio.Lock()

    @property
    def needs_counts(self) -> bool:
        return self.policy is PlacementPolicy.LEAST_FILLED

    async def choose(self, organization_id: ObjectId) -> str:
        """The database for a new organization's collection. Sends no query once the first
        count is in (a create that comes before it waits for it)."""
        full = self._full_databases()
        candidates = [name for name in self.pool if name not in full] or self.pool
        if self.policy is PlacementPolicy.HASH:
            chosen = max(candidates, key=lambda name: rendezvous_weight(organization_id, name))
        else:
            if not self._counted:
                await self._first_count()
            counts = self._counts
            fewest = min(counts.get(name, 0) for name in candidates)
            tied = [name for name in candidates if counts.get(name, 0) == fewest]
            chosen = max(tied, key=lambda name: rendezvous_weight(organization_id, name))
        self._counts[chosen] = self._counts.get(chosen, 0) + 1
        return chosen

    def forget(self, database: str) -> None:
        """A placement this instance counted did not happen (the create failed)."""
        if self._counts.get(database, 0) > 0:
            self._counts[database] -= 1

    async def refresh(self) -> None:
        """Read the registry's counts, replacing this instance's own tally."""
        async with self._lock:
            await self._read()

    async def run_periodically(self) -> None:
        """Count now, then every refresh interval, for as long as the service runs."""
        if not self.needs_counts:
            return
        while True:
            try:
                await step(self.refresh())
            except Exception:
                # The last counts serve until the next try; before the first, a create counts.
                logger.exception("placement count failed; retrying in %s", self.refresh_interval)
            await asyncio.sleep(self.refresh_interval.total_seconds())

    async def _first_count(self) -> None:
        async with self._lock:
            if not self._counted:
                await self._read()

    async def _read(self) -> None:
        recorded = await self._count_collections()
        counts: dict[str, int] = {}
        for name, count in recorded.items():
            key = name or self._default_database
            counts[key] = counts.get(key, 0) + count
        self._counts = counts
        self._counted = True
