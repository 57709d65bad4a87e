"""Write leases: how tenant-document writes and renames stay out of each other's way.

A writer takes a lease *before* it reads where the organization's collection is; a rename
records its state *before* it counts leases. Whatever the interleaving, either the writer
sees the rename (and answers 503) or the rename sees the writer's lease (and waits for it),
so no write can land in a collection after it has moved. Leases expire on their own
(TTL), so a writer that died cannot hold a rename back for long.
"""

import asyncio
import time

from bson import ObjectId

from app.db.retry import again
from app.db.schema import WRITE_LEASES
from app.db.store import Store
from app.errors import ServiceUnavailable

LEASE_SECONDS = 30


class TenantBusy(ServiceUnavailable):
    code = "tenant_busy"
    detail = "Writes to this organization's data are still finishing; try again shortly"


class WriteLeases:
    """Each lease has an id of its own, so releasing one never frees another's. Expiry is
    on the server's clock both when a lease is taken (`$currentDate`) and when a rename counts
    the live ones (`$$NOW`), so instances whose clocks disagree still agree on which leases
    are live."""

    def __init__(self, store: Store) -> None:
        self._leases = store.master[WRITE_LEASES]

    async def acquire(self, organization_id: ObjectId) -> ObjectId:
        lease_id = ObjectId()
        # `$currentDate` stamps the server's time as the lease is written; a lease is live
        # for LEASE_SECONDS after it.
        await self._leases.update_one(
            {"_id": lease_id},
            {
                "$currentDate": {"taken_at": {"$type": "date"}},
                "$set": {"organization_id": organization_id},
            },
            upsert=True,
        )
        return lease_id

    async def release(self, lease_id: ObjectId) -> None:
        await again(lambda: self._leases.delete_one({"_id": lease_id}))

    async def wait_until_drained(self, organization_id: ObjectId, within_seconds: float) -> None:
        """Return once no live lease remains; raise TenantBusy after `within_seconds`."""
        deadline = time.monotonic() + within_seconds
        while await self._leases.count_documents(
            {
                "organization_id": organization_id,
                "$expr": {"$gt": ["$taken_at", {"$subtract": ["$$NOW", LEASE_SECONDS * 1000]}]},
            },
            limit=1,
        ):
            if time.monotonic() >= deadline:
                raise TenantBusy()
            await asyncio.sleep(0.02)
