"""Which tenant database a new organization's collection goes to.

The pool is configured (`TENANT_DATABASES`, or `TENANT_DB_COUNT` with `TENANT_DB_PREFIX`); the
choice is recorded in the registry, so changing the pool or the policy never moves an existing
organization. Two policies:

- least-filled: the database holding the fewest tenant collections. Counts come from the
  registry, refreshed every `refresh_seconds` and kept current in between by counting this
  instance's own placements, so a create costs no extra query.
- hash: rendezvous hashing of the organization's id over the pool. Stable for a given pool,
  and growing the pool from N to N+1 databases changes only about 1/(N+1) of the choices.

Either way, a database the capacity monitor reports at its limit is skipped while another
has room. Ties are broken by the same hash, so instances whose counts agree still spread
their placements.
"""

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum

from bson import ObjectId

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
        self._count_collections = count_collections
        self._default_database = default_database
        self._refresh_seconds = refresh_seconds
        self._full_databases = full_databases
        self._counts: dict[str, int] = {}
        self._counted_at: float | None = None
        self._lock = asyncio.Lock()

    async def choose(self, organization_id: ObjectId) -> str:
        """The database for a new organization's collection."""
        full = self._full_databases()
        candidates = [name for name in self.pool if name not in full] or self.pool
        if self.policy is PlacementPolicy.HASH:
            chosen = max(candidates, key=lambda name: rendezvous_weight(organization_id, name))
        else:
            counts = await self._current_counts()
            fewest = min(counts.get(name, 0) for name in candidates)
            tied = [name for name in candidates if counts.get(name, 0) == fewest]
            chosen = max(tied, key=lambda name: rendezvous_weight(organization_id, name))
        self._counts[chosen] = self._counts.get(chosen, 0) + 1
        return chosen

    def forget(self, database: str) -> None:
        """A placement this instance counted did not happen (the create failed)."""
        if self._counts.get(database, 0) > 0:
            self._counts[database] -= 1

    async def _current_counts(self) -> dict[str, int]:
        fresh = (
            self._counted_at is not None
            and time.monotonic() - self._counted_at < self._refresh_seconds
        )
        if fresh:
            return self._counts
        async with self._lock:
            if self._counted_at is None or time.monotonic() - self._counted_at >= (
                self._refresh_seconds
            ):
                recorded = await self._count_collections()
                counts: dict[str, int] = {}
                for name, count in recorded.items():
                    key = name or self._default_database
                    counts[key] = counts.get(key, 0) + count
                self._counts = counts
                self._counted_at = time.monotonic()
        return self._counts
