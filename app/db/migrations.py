"""Which data migrations have run to the end (`migrations`), so a start-up skips them.

A migration brings documents written by an earlier version up to date. Finding those documents
means reading fields no index holds (`$exists` on a field that newer documents always carry),
so a start that ran every migration would scan the registry and the accounts each time. Each
migration therefore runs until a start finds nothing left for it to change; that start writes
its marker, and later starts read one document instead. Deleting a marker runs the migration
again at the next start (every migration is safe to repeat).
"""

from datetime import UTC, datetime

from app.db.schema import MIGRATIONS
from app.db.store import Store


class MigrationMarkers:
    def __init__(self, store: Store) -> None:
        self._markers = store.master[MIGRATIONS]

    async def is_done(self, name: str) -> bool:
        return await self._markers.find_one({"_id": name}, {"_id": 1}) is not None

    async def record(self, name: str) -> None:
        await self._markers.update_one(
            {"_id": name}, {"$set": {"finished_at": datetime.now(UTC)}}, upsert=True
        )
