"""What the service does when it starts and while it runs, as named steps for the lifespan."""

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from pymongo.errors import PyMongoError

from app.access.passwords import PasswordHasher
from app.api.state import Services, build_services
from app.api.workers import event_work
from app.audit.trail import ensure_audit_indexes
from app.config import ConfigurationError, Settings
from app.db.migrations import MigrationMarkers
from app.db.schema import IndexConflict, ensure_indexes
from app.db.store import Store
from app.email_verification.migration import migrate_to_email_verification
from app.kit.stopping import step, stop
from app.members.migration import migrate_to_memberships
from app.observability.metrics import Metrics
from app.organizations.lifecycle import Checkpoint
from app.organizations.recovery import recover_periodically
from app.organizations.retention import sweep_periodically
from app.registry.capacity import CapacityMonitor
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TENANT_INDEXES, TenantCollections
from app.workspaces.migration import migrate_to_workspaces

logger = logging.getLogger(__name__)

# How long a stopping service lets the background steps under way end before interrupting
# them.
STOP_GRACE_SECONDS = 5.0


Migration = Callable[[Store], Awaitable[int]]


def _tenant_indexes_version() -> str:
    """Changes whenever TENANT_INDEXES does, so that new declarations reach every collection."""
    declared = json.dumps([index.document for index in TENANT_INDEXES], sort_keys=True, default=str)
    return hashlib.sha256(declared.encode()).hexdigest()[:12]


# Each returns how much it changed; a run that changes nothing marks it done (app.db.migrations).
# These run before the service answers: requests rely on what they bring up to date.
MIGRATIONS: list[tuple[str, Migration]] = [
    ("memberships-from-account-roles", migrate_to_memberships),
    ("default-workspaces", migrate_to_workspaces),
    ("accounts-email-unverified", migrate_to_email_verification),
]


def background_migrations() -> list[tuple[str, Migration]]:
    """Migrations that run once the service answers, because they visit every organization
    (a start must not wait for that) and requests are correct without them, only slower."""
    return [(f"tenant-indexes-{_tenant_indexes_version()}", ensure_tenant_indexes)]


async def run_migrations(store: Store, migrations: list[tuple[str, Migration]]) -> None:
    """The migrations not yet marked done, in order (each safe to repeat)."""
    markers = MigrationMarkers(store)
    for name, migrate in migrations:
        if await markers.is_done(name):
            continue
        if await migrate(store) == 0:
            await markers.record(name)


async def migrate_in_background(store: Store) -> None:
    try:
        await step(run_migrations(store, background_migrations()))
    except Exception:
        logger.exception("a background migration failed; the next start tries again")


async def prepare_database(store: Store, settings: Settings) -> None:
    """Indexes, then the migrations not yet marked done that requests rely on. What it
    sends does not grow with the registry once those migrations are marked done."""
    try:
        await ensure_indexes(store)
    except IndexConflict as exc:
        raise ConfigurationError(str(exc)) from None
    except PyMongoError as exc:
        raise ConfigurationError(
            f"cannot prepare MongoDB ({type(exc).__name__}); check MONGO_URI and that "
            "the server is reachable"
        ) from None
    await ensure_audit_indexes(store, settings.audit_retention_days)
    # Runs every time: the `tenant_database` index finds the entries without one.
    await OrganizationRepository(store).record_default_database(store.default_tenant_db)
    await run_migrations(store, MIGRATIONS)


async def ensure_tenant_indexes(store: Store) -> int:
    """Give every settled organization's collection the indexes its document list needs (a
    collection from an earlier version lacks some). One index listing per organization when
    nothing is missing; a collection being moved is left to the next run. Returns how
    many collections were changed."""
    tenants = TenantCollections(store)
    changed = 0
    for namespace in await OrganizationRepository(store).settled_namespaces():
        if await tenants.ensure_indexes_if_present(namespace):
            changed += 1
    if changed:
        logger.info("added the document list indexes to %d tenant collections", changed)
    return changed


async def start_services(
    settings: Settings, store: Store, metrics: Metrics, checkpoint: Checkpoint
) -> Services:
    """Build every service once, settle what a crash interrupted, purge what is past its
    retention, and take the first counts."""
    hasher = PasswordHasher(
        settings.bcrypt_rounds, settings.password_hash_workers, settings.password_hash_niceness
    )
    capacity = CapacityMonitor(store, settings)
    services = build_services(
        settings, store, metrics=metrics, hasher=hasher, capacity=capacity, checkpoint=checkpoint
    )
    await services.recovery.run(timedelta(seconds=settings.recovery_grace_seconds))
    await services.purge_sweep.run()
    await services.outbox.settle_stale(timedelta(seconds=settings.event_settle_seconds))
    await hasher.warm_up()
    pool = store.tenant_pool
    logger.info(
        "ready: master database %r, %d tenant database(s) from %r, %s placement (%s)",
        store.master.name,
        len(pool),
        pool[0],
        settings.tenant_placement,
        "MongoDB server" if store.persistent else "in memory",
    )
    return services


@contextlib.asynccontextmanager
async def background_tasks(services: Services) -> AsyncIterator[None]:
    """The periodic recovery sweep, retention sweep, capacity count and placement count, for
    as long as the service runs, and the background migrations once. The first counts run here
    too, off the start-up path: until the capacity count is in, placement knows of no full
    database; a create that comes before the first placement count waits for it."""
    settings = services.settings
    work: list[Coroutine[Any, Any, None]] = [migrate_in_background(services.store)]
    if settings.recovery_interval_seconds:
        grace = timedelta(seconds=settings.recovery_grace_seconds)
        interval = timedelta(seconds=settings.recovery_interval_seconds)
        work.append(recover_periodically(services.recovery, grace, interval))
        # Purges of deleted organizations past their retention, at recovery's pace.
        work.append(sweep_periodically(services.purge_sweep, interval))
    every = timedelta(seconds=settings.capacity_refresh_seconds)
    work.append(services.capacity.run_periodically(every))
    work.append(services.placement.run_periodically())
    work.extend(event_work(services))
    tasks = [asyncio.create_task(coroutine) for coroutine in work]
    try:
        yield
    finally:
        await stop(tasks, STOP_GRACE_SECONDS)
