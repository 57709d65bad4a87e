"""The framework floor: what one request costs with nothing of the service's own in its path.

Bare FastAPI served by the same uvicorn command line as the service, with two routes on the
same store the service uses (opened by `app.db.connect.open_store`: mongomock behind
`app.db.memory`, or the driver over TCP): a read that is one `find_one` on a uniquely indexed
field, and a write that is one `insert_one` of the posted JSON. The second variant wraps the same
app in the service's middleware stack, in the service's order, so that the difference between
the two is what the middleware costs per request.

Served with `uvicorn --factory bench.floor_app:bare` (or `:with_middleware`); settings come
from the same environment variables as the service's (`MONGO_URI`, `PRIMARY_DB`, ...). Neither
variant runs the service's logging set-up: what the middleware costs is measured apart from
what logging costs (the middleware's own access record is filtered out at LOG_LEVEL=WARNING,
as in the service).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException
from pymongo.asynchronous.collection import AsyncCollection

from app.api.conditional import ConditionalRequestsMiddleware
from app.api.guards import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from app.api.idempotency import IdempotencyMiddleware
from app.api.request_ids import RequestContextMiddleware
from app.api.telemetry import RequestTelemetryMiddleware
from app.config import load_settings
from app.db.connect import open_store
from app.db.store import Document
from app.observability.metrics import Metrics

COLLECTION = "bench_floor"
WRITES = "bench_floor_writes"
# About as many documents as the collections the service's read cells look into hold: the
# in-memory store scans (mongomock uses no index), so a larger floor would be a slower one.
KEYS = 10
# Under /api/v1 so that the middleware that acts only there (conditional requests) acts here.
READ_PATH = "/api/v1/floor"
WRITE_PATH = "/api/v1/floor"


def key_for(number: int) -> str:
    return f"key-{number}"


@dataclass
class _Floor:
    reads: AsyncCollection[Document] | None = None
    writes: AsyncCollection[Document] | None = None

    def read_from(self) -> AsyncCollection[Document]:
        if self.reads is None:
            raise RuntimeError("the floor app has not started")
        return self.reads

    def write_to(self) -> AsyncCollection[Document]:
        if self.writes is None:
            raise RuntimeError("the floor app has not started")
        return self.writes


def _build(middleware: bool) -> FastAPI:
    # Read as the service reads them (the environment, then `.env`).
    settings = load_settings()
    floor = _Floor()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings)
        try:
            reads = store.master[COLLECTION]
            await reads.create_index("key", unique=True)
            if await reads.count_documents({}) == 0:
                await reads.insert_many([{"key": key_for(n), "value": n} for n in range(KEYS)])
            floor.reads, floor.writes = reads, store.master[WRITES]
            yield
        finally:
            await store.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "operational"}

    @app.get(READ_PATH + "/{key}")
    async def read(key: str) -> dict[str, Any]:
        found = await floor.read_from().find_one({"key": key}, {"_id": 0})
        if found is None:
            raise HTTPException(404)
        return found

    @app.post(WRITE_PATH, status_code=201)
    async def write(body: dict[str, Any]) -> dict[str, str]:
        inserted = await floor.write_to().insert_one(dict(body))
        return {"id": str(inserted.inserted_id)}

    if middleware:
        # The order of app.factory.create_app (CORS is off unless CORS_ORIGINS is set).
        app.add_middleware(IdempotencyMiddleware)
        app.add_middleware(ConditionalRequestsMiddleware)
        app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
        app.add_middleware(SecurityHeadersMiddleware)
        app.add_middleware(RequestTelemetryMiddleware, metrics=Metrics())
        app.add_middleware(RequestContextMiddleware)
    return app


def bare() -> FastAPI:
    return _build(middleware=False)


def with_middleware() -> FastAPI:
    return _build(middleware=True)
