"""The tenant collections themselves, in the tenant database."""

import logging

from pymongo.errors import CollectionInvalid, OperationFailure

from app.db.store import Store
from app.organizations.errors import TenantCollectionOccupied

logger = logging.getLogger(__name__)

_NAMESPACE_EXISTS = 48


class TenantCollections:
    def __init__(self, store: Store) -> None:
        self._database = store.tenants

    async def exists(self, name: str) -> bool:
        return name in await self._database.list_collection_names(filter={"name": name})

    async def count(self, name: str) -> int:
        return await self._database[name].count_documents({})

    async def create(self, name: str) -> bool:
        """Create the collection so that it is listed at once; False if it already existed.

        A collection left behind by an interrupted operation is adopted when it is empty and
        refused when it holds documents, which belong to no current organization.
        """
        try:
            await self._database.create_collection(name)
        except CollectionInvalid:
            await self._require_empty(name)
            return False
        except OperationFailure as exc:
            if exc.code != _NAMESPACE_EXISTS:
                raise
            await self._require_empty(name)
            return False
        return True

    async def rename(self, source: str, target: str) -> None:
        """Move `source` to `target` in place: a metadata change keeping `_id`s and indexes.

        Safe to repeat: a move that already happened is left as it is.
        """
        if not await self.exists(source):
            if not await self.exists(target):
                # Nothing to move: the collection was dropped outside the service.
                logger.error("tenant collection %s is missing; creating %s empty", source, target)
                await self.create(target)
            return
        if await self.exists(target):
            await self._require_empty(target)
            await self._database.drop_collection(target)
        await self._database[source].rename(target)

    async def drop(self, name: str) -> None:
        await self._database.drop_collection(name)

    async def _require_empty(self, name: str) -> None:
        if await self._database[name].count_documents({}, limit=1):
            logger.error("tenant collection %s exists, holds documents and has no owner", name)
            raise TenantCollectionOccupied()
