"""The embedded in-memory store: mongomock behind PyMongo's asynchronous API.

It lets the service start on a machine with no database server. Nothing survives a restart.
The differences from `AsyncMongoClient` that repository code would notice are bridged here.
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from mongomock_motor import AsyncMongoMockClient
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.results import BulkWriteResult

from app.config import Settings
from app.db.store import Document, Store

logger = logging.getLogger(__name__)


class _MemoryClient:
    def __init__(self) -> None:
        self._client: Any = AsyncMongoMockClient(tz_aware=True)

    def get_database(self, name: str) -> AsyncDatabase[Document]:
        return cast(AsyncDatabase[Document], _MemoryDatabase(self._client.get_database(name)))

    async def list_database_names(self) -> list[str]:
        return list(await self._client.list_database_names())

    async def close(self) -> None:
        # AsyncMongoClient.close() is a coroutine; mongomock's is a plain method.
        self._client.close()


class _MemoryDatabase:
    """mongomock-motor's database with PyMongo's async signatures where they differ."""

    def __init__(self, database: Any) -> None:
        self._database = database

    def __getattr__(self, name: str) -> Any:
        return getattr(self._database, name)

    def __getitem__(self, name: str) -> "_MemoryCollection":
        return _MemoryCollection(self._database[name])

    def get_collection(self, name: str) -> "_MemoryCollection":
        return self[name]

    async def create_collection(self, name: str, **kwargs: Any) -> "_MemoryCollection":
        await self._database.create_collection(name, **kwargs)
        return self[name]

    async def list_collection_names(
        self, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[str]:
        # mongomock's filtered listing still reports collections that were dropped; filter the
        # accurate unfiltered list instead (by name, the only filter the service uses).
        names: list[str] = await self._database.list_collection_names(**kwargs)
        if filter and set(filter) == {"name"} and isinstance(filter["name"], str):
            return [name for name in names if name == filter["name"]]
        if filter:
            return list(await self._database.list_collection_names(filter=filter, **kwargs))
        return names

    async def list_collections(self, *args: Any, **kwargs: Any) -> Any:
        return self._database.list_collections(*args, **kwargs)

    async def aggregate(self, *args: Any, **kwargs: Any) -> Any:
        return self._database.aggregate(*args, **kwargs)


_NOW = "$$NOW"
# Calls whose arguments may name the server's clock.
_READS_THE_CLOCK = frozenset(
    {
        "find",
        "find_one",
        "count_documents",
        "update_one",
        "update_many",
        "find_one_and_update",
        "delete_one",
        "delete_many",
    }
)


def _with_clock(value: Any, now: datetime) -> Any:
    """`value` with the server's clock read as mongomock cannot: `$$NOW` becomes `now`, and
    `{"$add": ["$$NOW", ms]}` (its only use of date arithmetic, which mongomock lacks) the
    date that many milliseconds later."""
    if isinstance(value, str):
        return now if value == _NOW else value
    if isinstance(value, list):
        return [_with_clock(item, now) for item in value]
    if isinstance(value, dict):
        added = value.get("$add")
        if (
            len(value) == 1
            and isinstance(added, list)
            and len(added) == 2
            and added[0] == _NOW
            and isinstance(added[1], int | float)
        ):
            return now + timedelta(milliseconds=added[1])
        return {key: _with_clock(item, now) for key, item in value.items()}
    return value


class _MemoryCollection:
    """mongomock-motor's collection; PyMongo awaits `list_indexes` and `aggregate`, and
    queries may read the server's clock (`$$NOW`)."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if name not in _READS_THE_CLOCK:
            return attribute

        def reading_the_clock(*args: Any, **kwargs: Any) -> Any:
            now = datetime.now(UTC)
            return attribute(*_with_clock(list(args), now), **_with_clock(kwargs, now))

        return reading_the_clock

    async def list_indexes(self, *args: Any, **kwargs: Any) -> Any:
        return self._collection.list_indexes(*args, **kwargs)

    async def bulk_write(
        self, requests: list[UpdateOne], ordered: bool = True, **kwargs: Any
    ) -> BulkWriteResult:
        """Each update on its own, the failures gathered as the server reports them:
        mongomock's bulk writes predate the `sort` PyMongo's `UpdateOne` now carries."""
        failures: list[Document] = []
        upserted: list[Document] = []
        matched = modified = 0
        for index, request in enumerate(requests):
            if not isinstance(request, UpdateOne):
                raise NotImplementedError("the in-memory store bulk-writes updates only")
            try:
                result = await self.update_one(
                    request._filter,
                    request._doc,
                    upsert=bool(request._upsert),
                )
            except DuplicateKeyError as error:
                failures.append({"index": index, "code": error.code, "errmsg": str(error)})
                if ordered:
                    break
                continue
            matched += result.matched_count
            modified += result.modified_count
            if result.upserted_id is not None:
                upserted.append({"index": index, "_id": result.upserted_id})
        answer: Document = {
            "writeErrors": failures,
            "writeConcernErrors": [],
            "nInserted": 0,
            "nUpserted": len(upserted),
            "nMatched": matched,
            "nModified": modified,
            "nRemoved": 0,
            "upserted": upserted,
        }
        if failures:
            raise BulkWriteError(answer)
        return BulkWriteResult(answer, acknowledged=True)

    async def aggregate(self, pipeline: list[Any], *args: Any, **kwargs: Any) -> Any:
        if len(pipeline) == 1 and "$collStats" in pipeline[0]:
            return await self._collection_statistics(pipeline[0]["$collStats"])
        return self._collection.aggregate(pipeline, *args, **kwargs)

    async def _collection_statistics(self, asked: dict[str, Any]) -> "_Answered":
        """`$collStats` as far as memory can tell: the `count`; no storage statistics."""
        answer: Document = {"ns": self._collection.full_name}
        if "count" in asked:
            answer["count"] = await self._collection.estimated_document_count()
        return _Answered([answer])


class _Answered:
    """A cursor over answers already at hand."""

    def __init__(self, documents: list[Document]) -> None:
        self._documents = documents

    async def to_list(self, length: int | None = None) -> list[Document]:
        return self._documents[:length] if length else list(self._documents)

    def __aiter__(self) -> Any:
        return self._iterate()

    async def _iterate(self) -> Any:
        for document in self._documents:
            yield document


def open_memory_store(settings: Settings) -> Store:
    logger.warning(
        "MONGO_URI is not set: using the in-memory store. NOTHING IS PERSISTED; every "
        "organization and account is lost when the process stops. Set MONGO_URI for real use."
    )
    client = _MemoryClient()
    return Store(
        master=client.get_database(settings.primary_db),
        client=client,
        default_tenant_db=settings.default_tenant_db,
        persistent=False,
        tenant_pool=settings.tenant_pool,
    )
