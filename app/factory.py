"""`create_app()`: the FastAPI application, its lifespan and its routes."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pymongo.errors import PyMongoError

from app import health
from app.audit import router as audit_router
from app.audit.trail import ensure_audit_indexes
from app.auth import router as auth_router
from app.auth import v1_router as auth_v1_router
from app.auth.passwords import PasswordHasher
from app.auth.throttle import ThrottlePolicy
from app.auth.tokens import TokenCodec
from app.billing import router as billing_router
from app.config import ConfigurationError, Settings, load_settings
from app.context import AppContext
from app.db.schema import ensure_indexes
from app.db.store import Store, open_store
from app.documents import router as documents_router
from app.errors import register_error_handlers
from app.http_guards import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from app.invitations import router as invitations_router
from app.invitations.delivery import build_sender
from app.members import router as members_router
from app.members.migration import migrate_to_memberships
from app.observability import router as observability_router
from app.observability.logs import configure_logging
from app.observability.metrics import Metrics
from app.observability.telemetry import RequestTelemetryMiddleware
from app.openapi import install_openapi
from app.organizations import router as organizations_router
from app.organizations import v1_router as organizations_v1_router
from app.organizations.capacity import CapacityMonitor
from app.organizations.lifecycle import Checkpoint, build_lifecycle, no_checkpoint
from app.organizations.placement import PlacementPolicy, TenantPlacement
from app.organizations.recovery import LifecycleRecovery, recover_periodically
from app.organizations.repository import OrganizationRepository
from app.request_context import RequestContextMiddleware
from app.workspaces import router as workspaces_router
from app.workspaces.migration import migrate_to_workspaces

logger = logging.getLogger(__name__)

DESCRIPTION = """
Organizations, their admin accounts, and one MongoDB collection per organization.

Validation failures answer **400** with `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`.
Every response carries an `X-Request-ID` header (yours, if you send a sane one).
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
    opener = store_opener or partial(open_store, pool_listener=metrics.pool_listener())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, AppContext]]:
        if settings.secret_key_generated:
            logger.warning(
                "SECRET_KEY is missing or weak: signing tokens with a random per-process key. "
                "Tokens stop working when the process restarts."
            )
        store = opener(settings)
        try:
            try:
                await ensure_indexes(store)
            except PyMongoError as exc:
                raise ConfigurationError(
                    f"cannot prepare MongoDB ({type(exc).__name__}); check MONGO_URI and that "
                    "the server is reachable"
                ) from None
            await ensure_audit_indexes(store, settings.audit_retention_days)
            await OrganizationRepository(store).record_default_database(store.default_tenant_db)
            await migrate_to_memberships(store)
            await migrate_to_workspaces(store)
            recovery = LifecycleRecovery(build_lifecycle(store, settings, checkpoint))
            grace = timedelta(seconds=settings.recovery_grace_seconds)
            await recovery.run(grace)
            hasher = PasswordHasher(
                settings.bcrypt_rounds,
                settings.password_hash_workers,
                settings.password_hash_niceness,
            )
            await hasher.warm_up()
            capacity = CapacityMonitor(store, settings)
            try:
                await capacity.refresh()
            except PyMongoError:
                logger.exception("could not count collections and indexes; retrying later")
            context = AppContext(
                settings=settings,
                store=store,
                hasher=hasher,
                tokens=TokenCodec(
                    keys=settings.signing_keys(),
                    algorithm=settings.algorithm,
                    lifetime=timedelta(minutes=settings.token_lifetime),
                    issuer=settings.token_issuer,
                    audience=settings.token_audience,
                ),
                throttle_policy=ThrottlePolicy(
                    window=timedelta(seconds=settings.login_window_seconds),
                    max_per_account=settings.login_max_failures_per_account,
                    max_per_address=settings.login_max_failures_per_address,
                    trust_for=timedelta(days=settings.login_trusted_address_days),
                ),
                metrics=metrics,
                email_sender=build_sender(settings),
                placement=TenantPlacement(
                    store.tenant_pool,
                    PlacementPolicy(settings.tenant_placement),
                    OrganizationRepository(store).collections_per_database,
                    default_database=store.default_tenant_db,
                    full_databases=capacity.full_databases,
                ),
                capacity=capacity,
                checkpoint=checkpoint,
            )
            pool = store.tenant_pool
            logger.info(
                "ready: master database %r, %d tenant database(s) from %r, %s placement (%s)",
                store.master.name,
                len(pool),
                pool[0],
                settings.tenant_placement,
                "MongoDB server" if store.persistent else "in memory",
            )
            background = []
            if settings.recovery_interval_seconds:
                interval = timedelta(seconds=settings.recovery_interval_seconds)
                background.append(
                    asyncio.create_task(recover_periodically(recovery, grace, interval))
                )
            if settings.capacity_refresh_seconds:
                every = timedelta(seconds=settings.capacity_refresh_seconds)
                background.append(asyncio.create_task(capacity.run_periodically(every)))
            try:
                yield {"context": context}
            finally:
                for task in background:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        finally:
            await store.close()

    app = FastAPI(
        title="Tenantry",
        summary="Organization Management API",
        description=DESCRIPTION,
        version="1.0.0",
        lifespan=lifespan,
    )
    # Added innermost first: request ids wrap everything, so even a 413 or CORS answer has one.
    cors_origins = settings.cors_origin_list()
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestTelemetryMiddleware, metrics=metrics)
    app.add_middleware(RequestContextMiddleware)
    register_error_handlers(app)
    app.include_router(health.router)
    app.include_router(observability_router.router)
    app.include_router(organizations_router.router)
    app.include_router(auth_router.router)
    app.include_router(auth_v1_router.router)
    app.include_router(organizations_v1_router.router)
    app.include_router(members_router.router)
    app.include_router(documents_router.router)
    app.include_router(billing_router.router)
    app.include_router(audit_router.router)
    app.include_router(workspaces_router.router)
    app.include_router(invitations_router.organization_router)
    app.include_router(invitations_router.router)
    install_openapi(app)
    return app
