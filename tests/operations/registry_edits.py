"""Operator functions called directly on stores seeded through the real app.

Organizations are created over HTTP (`client`), then the registry or the tenant databases are
edited by hand where a test needs the damage a crash or an operator's mistake leaves.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from app.db.schema import EVENT_STREAMS, IDENTIFIER_CLAIMS, ORGANIZATIONS
from app.db.store import Document, Store

LONG_AGO = datetime.now(UTC) - timedelta(hours=3)


async def registry_entry(store: Store, organization_id: str | ObjectId) -> Document:
    found = await store.master[ORGANIZATIONS].find_one({"_id": ObjectId(organization_id)})
    assert found is not None
    return found


async def edit_entry(store: Store, organization_id: str, changes: dict[str, Any]) -> None:
    """Apply a raw update (`{"$set": ...}`, `{"$unset": ...}`) to one registry entry."""
    result = await store.master[ORGANIZATIONS].update_one(
        {"_id": ObjectId(organization_id)}, changes
    )
    assert result.matched_count == 1


async def claim_ids(store: Store) -> list[str]:
    return sorted(await store.master[IDENTIFIER_CLAIMS].distinct("_id"))


async def databases_of(store: Store) -> list[str]:
    names = {store.master.name, store.default_tenant_db, *store.tenant_pool}
    names.update(await store.client.list_database_names())
    return sorted(names)


async def snapshot(store: Store) -> dict[str, list[Document]]:
    """Every document of every database, by `database.collection`, in `_id` order; not the
    event streams, where a refused change uses up the sequence number of its dropped event
    (the events themselves are compared)."""
    contents: dict[str, list[Document]] = {}
    for name in await databases_of(store):
        database = store.client.get_database(name)
        for collection in sorted(await database.list_collection_names()):
            if collection == EVENT_STREAMS:
                continue
            documents = await database[collection].find({}).to_list()
            contents[f"{name}.{collection}"] = sorted(documents, key=lambda d: str(d["_id"]))
    return contents
