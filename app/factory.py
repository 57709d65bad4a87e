"""`create_app()`: the FastAPI application, its lifespan and its routes."""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.api import accept_page, catalogue, monitoring, v1
from app.api.conditional import ConditionalRequestsMiddleware
from app.api.contract import health
from app.api.contract import organizations as contract_organizations
from app.api.contract import sessions as contract_sessions
from app.api.docs import install_docs
from app.api.errors import register_error_handlers
from app.api.guards import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from app.api.idempotency import REPLAYED_HEADER, IdempotencyMiddleware
from app.api.openapi import install_openapi
from app.api.request_ids import RequestContextMiddleware
from app.api.state import State
from app.api.telemetry import RequestTelemetryMiddleware
from app.config import Settings, load_settings
from app.db.connect import open_store
from app.db.store import Store
from app.idempotency.errors import HEADER as IDEMPOTENCY_HEADER
from app.observability.logs import configure_logging
from app.observability.metrics import Metrics
from app.organizations.lifecycle import Checkpoint, no_checkpoint
from app.startup import background_tasks, prepare_database, start_services

logger = logging.getLogger(__name__)

DESCRIPTION = """
Organizations, their admin accounts, and one MongoDB collection per organization.

Validation failures answer **400** with `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`.
Every response carries an `X-Request-ID` header (yours, if you send a sane one).

**Errors.** Under `/api/v1`, every error body has a stable `code` beside `detail`
(`organization_name_taken`, `invitation_gone`, `rate_limited`, ...): branch on `code`, show
`detail`. `GET /errors` lists every code. Send `Accept: application/problem+json` to get
RFC 9457 problem details (`type`, `title`, `status`, `detail`, `code`, `instance`) from any
endpoint. Any operation can also answer `500 internal_error` (quote its `request_id`),
`503 database_unavailable` and `413 request_too_large`.

**Times** are RFC 3339 in UTC with `Z`, to the millisecond: `2026-12-03T09:15:00.123Z`.

**Conditional requests.** Reads under `/api/v1` carry an `ETag`; send it back in
`If-None-Match` to get `304 Not Modified` when nothing changed, or in `If-Match` on a change to
make it only if nothing changed meanwhile (`412 precondition_failed` otherwise).
"""


def create_app(
    settings: Settings | None = None,
    *,
    store_opener: Callable[[Settings], Store] | None = None,
    checkpoint: Checkpoint = no_checkpoint,
) -> FastAPI:
    """Build the application.

    `store_opener` lets tests hand in a store they can inspect, `checkpoint` lets them stop
    lifecycle operations between steps.
    """
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    metrics = Metrics()
    opener = store_opener or partial(open_store, listeners=metrics.driver_listeners())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[State]:
        if settings.secret_key_generated:
            logger.warning(
                "SECRET_KEY is missing or weak: signing tokens with a random per-process key. "
                "Tokens stop working when the process restarts."
            )
        store = opener(settings)
        try:
            await prepare_database(store, settings)
            services = await start_services(settings, store, metrics, checkpoint)
            try:
                async with background_tasks(services):
                    yield {"services": services}
            finally:
                services.hasher.close()
        finally:
            await store.close()

    app = FastAPI(
        title="Tenantry",
        summary="Organization Management API",
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # Added innermost first: request ids wrap everything, so even a 413 or CORS answer has one.
    # Idempotent replays sit inside CORS (a replay gets this request's CORS headers) and inside
    # the size limit (the body they buffer is bounded); so do conditional answers (304, 412).
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(ConditionalRequestsMiddleware)
    cors_origins = settings.cors_origins
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                "If-Match",
                "If-None-Match",
                IDEMPOTENCY_HEADER,
            ],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "ETag",
                "Location",
                "Link",
                REPLAYED_HEADER,
            ],
            max_age=600,
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestTelemetryMiddleware, metrics=metrics)
    app.add_middleware(RequestContextMiddleware)
    register_error_handlers(app)
    # A request is matched against one route after another, so the busiest come first: the
    # probes' and the scraper's three, then the contract's, then the documents API's (a
    # request reaching the last route has paid half a millisecond of matching).
    app.include_router(health.router)
    app.include_router(monitoring.router)
    app.include_router(contract_organizations.router)
    app.include_router(contract_sessions.router)
    for router in v1.routers:
        app.include_router(router)
    app.include_router(catalogue.router)
    app.include_router(accept_page.router)
    install_openapi(app)
    install_docs(app)
    return app
