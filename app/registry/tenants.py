"""The tenant collections themselves, in the tenant databases."""

import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import anyio
from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, CollectionInvalid, OperationFailure, PyMongoError

from app.db.retry import is_transient
from app.db.schema import ensure_declared, same_keys
from app.db.store import Document, Store, TenantNamespace
from app.errors import AppError, ServiceUnavailable
from app.registry.errors import TenantCollectionOccupied
from app.registry.models import Organization

logger = logging.getLogger(__name__)

_NAMESPACE_EXISTS = 48
_NAMESPACE_NOT_FOUND = 26
# The server declines renameCollection itself: not allowed to (Unauthorized), not here
# (IllegalOperation: e.g. across databases whose primary shards differ on a sharded
# cluster), or not at all (CommandNotFound, CommandNotSupported). Only these lead to the copy;
# a passing failure is tried again, and any other error fails the rename.
_RENAME_REFUSALS = frozenset({13, 20, 59, 115})
# Long enough together to outlast an election (about ten seconds at most, by default).
RENAME_PAUSES_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0, 4.0, 4.0)
_DUPLICATE_KEY = 11000
# Index options that describe an index rather than configure it; never passed to create_index.
_INDEX_METADATA = frozenset({"key", "v", "ns"})

Progress = Callable[[int], Awaitable[None]]

TENANT_INDEXES = [
    IndexModel(
        [("workspace_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
        name="workspace_created",
    ),
    IndexModel([("created_at", ASCENDING), ("_id", ASCENDING)], name="created"),
]


class MoveStrategy(StrEnum):
    RENAME = "rename"
    COPY = "copy"
    AUTO = "auto"


class RenameResult(StrEnum):
    MOVED = "moved"
    REFUSED = "refused"


class TenantCopyMismatch(AppError):
    """The copy does not hold as many documents as the source: the switch must not happen."""

    code = "tenant_copy_mismatch"
    detail = "The tenant data could not be verified after copying; nothing was switched"


class TenantCopyUnconfirmed(ServiceUnavailable):
    """A batch of the copy missed its write concern: the server may hold it on fewer members
    than it must (and MongoDB does not undo it), so the copy cannot be switched to."""

    detail = "The database did not confirm the copy of the tenant data; nothing was switched"


class TenantCollections:
    """Tenant collections wherever they are placed; each is addressed by its namespace."""

    def __init__(self, store: Store, *, copy_batch_size: int = 1000) -> None:
        self._store = store
        self._batch_size = copy_batch_size

    def database_of(self, organization: Organization) -> str:
        return self._store.resolve_database(organization.tenant_database)

    def _database(self, namespace: TenantNamespace) -> AsyncDatabase[Document]:
        return self._store.tenant_database(namespace.database)

    def _collection(self, namespace: TenantNamespace) -> AsyncCollection[Document]:
        return self._store.collection(namespace)

    async def exists(self, name: TenantNamespace) -> bool:
        # The filter spares a real server listing every collection; the membership test keeps
        # the answer right on servers that ignore it.
        names = await self._database(name).list_collection_names(filter={"name": name.collection})
        return name.collection in names

    async def count(self, name: TenantNamespace) -> int:
        return await self._collection(name).count_documents({})

    async def estimated_count(self, name: TenantNamespace) -> int:
        """The count the collection's metadata holds: no document is read. Exact on a
        standalone or replica set after a clean shutdown; `count` is for when it must be."""
        return await self._collection(name).estimated_document_count()

    async def storage_bytes(self, name: TenantNamespace) -> int | None:
        """Storage the server reports for the collection (summed over shards); None where it
        reports nothing."""
        return (await self.size_of(name))[1]

    async def size_of(self, name: TenantNamespace) -> tuple[int, int | None]:
        """Documents and storage (None where the server reports none) from the collection's
        metadata, in one `$collStats` stage (summed over shards; the `collStats` command is
        deprecated since MongoDB 6.2); (0, None) for no collection."""
        try:
            cursor = await self._collection(name).aggregate(
                [{"$collStats": {"count": {}, "storageStats": {}}}]
            )
            shards = await cursor.to_list()
        except OperationFailure as exc:
            if exc.code != _NAMESPACE_NOT_FOUND:
                raise
            return 0, None
        documents = sum(int(shard.get("count") or 0) for shard in shards)
        sizes = [(shard.get("storageStats") or {}).get("storageSize") for shard in shards]
        known = [int(size) for size in sizes if isinstance(size, int | float)]
        return documents, sum(known) if known else None

    async def is_empty(self, name: TenantNamespace) -> bool:
        return not await self._collection(name).count_documents({}, limit=1)

    async def create(self, name: TenantNamespace) -> bool:
        """Create the collection so that it is listed at once; False if it already existed.

        A collection left behind by an interrupted operation is adopted when it is empty and
        refused when it holds documents, which belong to no current organization.
        """
        try:
            await self._database(name).create_collection(name.collection)
        except CollectionInvalid:
            pass
        except OperationFailure as exc:
            if exc.code != _NAMESPACE_EXISTS:
                raise
        else:
            # A collection just made has no index but `_id`'s: nothing to compare.
            await self._collection(name).create_indexes(TENANT_INDEXES)
            return True
        await self._require_empty(name)
        await self.ensure_workspace_index(name)
        return False

    async def ensure_workspace_index(self, name: TenantNamespace) -> None:
        """The indexes that list documents by keyset, newest or oldest first (`created_at`,
        then `_id`): per workspace, and across the organization for owners and admins."""
        await ensure_declared(self._collection(name), TENANT_INDEXES)

    async def ensure_indexes_if_present(self, name: TenantNamespace) -> bool:
        """The same for a collection that exists; one that does not is left alone (creating
        indexes would create it). True if anything was created or replaced."""
        collection = self._collection(name)
        existing = await collection.index_information()
        if not existing:
            return False
        if all(
            _declared_as(existing.get(index.document["name"]), index) for index in TENANT_INDEXES
        ):
            return False
        await ensure_declared(collection, TENANT_INDEXES)
        return True

    async def file_unfiled_under(self, name: TenantNamespace, workspace_id: ObjectId) -> None:
        """Put the documents that belong to no workspace yet into `workspace_id`."""
        await self._collection(name).update_many(
            {"workspace_id": {"$exists": False}}, {"$set": {"workspace_id": workspace_id}}
        )

    async def try_rename(self, source: TenantNamespace, target: TenantNamespace) -> RenameResult:
        """Move `source` to `target` with renameCollection: metadata only, `_id`s and indexes kept.

        Both must be in the same database. REFUSED when the server declines the command
        (`_RENAME_REFUSALS`), or acknowledges without moving; the caller then copies. A
        passing failure (an election, an index build on the source, concurrent DDL) is tried
        again, and one that outlasts `RENAME_PAUSES_SECONDS` is raised. An empty `target`
        (left by an earlier attempt) is replaced.
        """
        if source.database != target.database:
            raise ValueError("renameCollection is only used inside one database")
        if await self.exists(target):
            await self._require_empty(target)
            await self.drop(target)
        pauses = iter(RENAME_PAUSES_SECONDS)
        while True:
            try:
                await self._collection(source).rename(target.collection)
            except PyMongoError as exc:
                # A rename whose answer was lost, or one an earlier attempt (or recovery) made,
                # shows as a source that is gone (NamespaceNotFound) beside a target.
                if await self._moved(source, target):
                    return RenameResult.MOVED
                code = exc.code if isinstance(exc, OperationFailure) else None
                if code in _RENAME_REFUSALS:
                    logger.warning("renameCollection %s -> %s refused (%s)", source, target, code)
                    return RenameResult.REFUSED
                if code == _NAMESPACE_NOT_FOUND and not await self.exists(source):
                    raise  # gone, and not to the target: nothing is left to move or copy
                pause = next(pauses, None)
                if pause is None or not (is_transient(exc) or code == _NAMESPACE_NOT_FOUND):
                    raise
                logger.info("renameCollection %s -> %s: %r, trying again", source, target, exc)
                await anyio.sleep(pause)
                continue
            break
        if not await self._moved(source, target):
            logger.warning("renameCollection %s -> %s acknowledged but not done", source, target)
            return RenameResult.REFUSED
        return RenameResult.MOVED

    async def _moved(self, source: TenantNamespace, target: TenantNamespace) -> bool:
        return not await self.exists(source) and await self.exists(target)

    async def copy(
        self, source: TenantNamespace, target: TenantNamespace, progress: Progress | None = None
    ) -> int:
        """Copy every document and index of `source` into `target`; return the count copied.

        Resumable: documents already in `target` (same `_id`) are skipped, so running it again
        after an interruption finishes the job. Documents are written as read, so `_id`s and
        BSON types are kept. The counts are verified at the end; `source` is left in place.
        """
        if not await self.exists(target):
            await self.create(target)
        await self._copy_indexes(source, target)
        copied = 0
        batch: list[Document] = []
        async for document in self._collection(source).find({}).sort("_id", 1):
            batch.append(document)
            if len(batch) >= self._batch_size:
                copied += await self._insert_missing(target, batch)
                batch = []
                if progress:
                    await progress(copied)
        if batch:
            copied += await self._insert_missing(target, batch)
            if progress:
                await progress(copied)
        expected, actual = await self.count(source), await self.count(target)
        if expected != actual:
            logger.error(
                "copy %s -> %s: %d documents, copy holds %d", source, target, expected, actual
            )
            raise TenantCopyMismatch()
        return actual

    async def drop(self, name: TenantNamespace) -> None:
        await self._database(name).drop_collection(name.collection)

    async def _copy_indexes(self, source: TenantNamespace, target: TenantNamespace) -> None:
        existing = await self._collection(target).index_information()
        for name, info in (await self._collection(source).index_information()).items():
            if name == "_id_" or name in existing:
                continue
            options: dict[str, Any] = {k: v for k, v in info.items() if k not in _INDEX_METADATA}
            await self._collection(target).create_index(_creatable_keys(info), name=name, **options)

    async def _insert_missing(self, target: TenantNamespace, batch: list[Document]) -> int:
        try:
            result = await self._collection(target).insert_many(batch, ordered=False)
        except BulkWriteError as exc:
            # The driver raises for write concern errors alone too: then every document may
            # be in the copy, so the count would match, and yet none is known to be durable.
            if exc.details.get("writeConcernErrors"):
                logger.error(
                    "copy into %s: write concern not met (%s)",
                    target,
                    [error.get("code") for error in exc.details["writeConcernErrors"]],
                )
                raise TenantCopyUnconfirmed() from exc
            # Documents already there (a resumed copy) are duplicates, and fine.
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != _DUPLICATE_KEY for error in errors):
                raise
            return len(batch) - len(errors)
        return len(result.inserted_ids)

    async def _require_empty(self, name: TenantNamespace) -> None:
        if not await self.is_empty(name):
            logger.error("tenant collection %s exists, holds documents and has no owner", name)
            raise TenantCollectionOccupied()


def _declared_as(found: dict[str, Any] | None, index: IndexModel) -> bool:
    return found is not None and same_keys(found["key"], index.document["key"])


def _creatable_keys(info: dict[str, Any]) -> list[tuple[str, Any]]:
    """The key spec that re-creates an index as `index_information()` describes it.

    A text index is reported by its internal keys (`_fts`, `_ftsx`); it is created by naming
    its fields, which `weights` lists.
    """
    keys = [(field, direction) for field, direction in info["key"]]
    if not any(field == "_fts" for field, _ in keys):
        return keys
    plain = [(field, direction) for field, direction in keys if field not in {"_fts", "_ftsx"}]
    return plain + [(field, "text") for field in info.get("weights", {})]
