"""Opening the store the settings describe: a MongoDB server, or the in-memory stand-in."""

from collections.abc import Sequence
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from app.config import Settings
from app.db.store import Document, Store


def open_store(
    settings: Settings,
    listeners: Sequence[monitoring.CommandListener | monitoring.ConnectionPoolListener] = (),
) -> Store:
    """Create the client for the configured backend. Connecting happens lazily, on first use."""
    if settings.in_memory:
        # Imported here: production images do not install the in-memory store's packages.
        from app.db.memory import open_memory_store

        return open_memory_store(settings)

    # Given here, the write concern overrides one written into MONGO_URI.
    durability: dict[str, Any] = {"w": settings.write_concern_w, "journal": settings.mongo_journal}
    if settings.mongo_write_timeout_ms:
        durability["wTimeoutMS"] = settings.mongo_write_timeout_ms
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        settings.mongo_uri,
        appname="tenantry",
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        maxPoolSize=settings.mongo_max_pool_size,
        event_listeners=list(listeners),
        **durability,
    )
    return Store(
        master=client.get_database(settings.primary_db),
        client=client,
        default_tenant_db=settings.default_tenant_db,
        persistent=True,
        tenant_pool=settings.tenant_pool,
    )
