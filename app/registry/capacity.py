"""Collections and indexes per database and per cluster, against the limits planned for.

Every collection and every index is a file (a WiredTiger table) that the server keeps a handle,
cache space and checkpoint work for; MongoDB's sizing guidance is expressed as collections plus
indexes per cluster. Tenantry adds one collection and three indexes per organization, so these
are the numbers that grow with it. `measure` counts them with `dbStats` (one command per
database) and falls back to listing collections where the server does not answer it.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from app.config import Settings
from app.db.store import Store
from app.kit.stopping import step
from app.registry.repository import OrganizationRepository

logger = logging.getLogger(__name__)
# When the count fails and no refresh interval is set, the next try.
_RETRY = timedelta(minutes=5)


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    OVER = "over"


class Role(StrEnum):
    MASTER = "master"
    TENANT = "tenant"  # in the placement pool
    DRAINING = "draining"  # holds tenant collections but is no longer in the pool
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Limits:
    database: int
    cluster: int
    warn_ratio: float

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(
            settings.capacity_database_limit,
            settings.capacity_cluster_limit,
            settings.capacity_warn_ratio,
        )

    def level(self, used: int, limit: int) -> Level:
        if used >= limit:
            return Level.OVER
        if used >= limit * self.warn_ratio:
            return Level.WARNING
        return Level.OK


@dataclass(frozen=True, slots=True)
class DatabaseUsage:
    name: str
    role: Role
    collections: int
    indexes: int
    # Tenant collections the registry places here.
    organizations: int

    @property
    def namespaces(self) -> int:
        return self.collections + self.indexes


@dataclass(frozen=True, slots=True)
class CapacityReport:
    databases: list[DatabaseUsage]
    limits: Limits
    measured_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def cluster_namespaces(self) -> int:
        return sum(database.namespaces for database in self.databases)

    @property
    def cluster_level(self) -> Level:
        return self.limits.level(self.cluster_namespaces, self.limits.cluster)

    def level_of(self, database: DatabaseUsage) -> Level:
        if database.role is Role.OTHER:
            return Level.OK  # not Tenantry's to plan for; it still counts toward the cluster
        return self.limits.level(database.namespaces, self.limits.database)

    def full_databases(self) -> set[str]:
        return {d.name for d in self.databases if self.level_of(d) is Level.OVER}

    def warnings(self) -> list[str]:
        """One line per database, and for the cluster, at or past the warning level."""
        lines = []
        for database in self.databases:
            level = self.level_of(database)
            if level is not Level.OK:
                lines.append(
                    f"database {database.name}: {database.namespaces} collections+indexes, "
                    f"{_share(database.namespaces, self.limits.database)} of the "
                    f"{self.limits.database} planned per database ({level})"
                )
        if self.cluster_level is not Level.OK:
            lines.append(
                f"cluster: {self.cluster_namespaces} collections+indexes, "
                f"{_share(self.cluster_namespaces, self.limits.cluster)} of the "
                f"{self.limits.cluster} planned ({self.cluster_level})"
            )
        return lines


def _share(used: int, limit: int) -> str:
    return f"{used / limit:.0%}"


async def measure(store: Store, settings: Settings) -> CapacityReport:
    """Count collections and indexes in Tenantry's own databases: the master database, the
    default tenant database, the pool, and any other the registry still places collections
    in. Other databases on the same cluster are not Tenantry's to list (and listing them
    needs a privilege it does not need otherwise); `CAPACITY_CLUSTER_LIMIT` is the share of
    the cluster planned for Tenantry."""
    organizations = OrganizationRepository(store)
    master = store.master.name
    pool = store.tenant_pool
    in_use = await organizations.databases_in_use()
    recorded = await organizations.collections_per_database(in_use)
    placed: dict[str, int] = {}
    for name, count in recorded.items():
        key = store.resolve_database(name)
        placed[key] = placed.get(key, 0) + count
    names = sorted({master, store.default_tenant_db, *pool, *placed})
    databases = []
    for name in names:
        collections, indexes = await _count(store, name)
        databases.append(
            DatabaseUsage(
                name=name,
                role=_role(name, master, pool, placed),
                collections=collections,
                indexes=indexes,
                organizations=placed.get(name, 0),
            )
        )
    return CapacityReport(databases, Limits.of(settings))


def _role(name: str, master: str, pool: Sequence[str], placed: dict[str, int]) -> Role:
    if name == master:
        return Role.MASTER
    if name in pool:
        return Role.TENANT
    if placed.get(name):
        return Role.DRAINING
    return Role.OTHER


async def _count(store: Store, name: str) -> tuple[int, int]:
    database = store.client.get_database(name)
    try:
        stats = await database.command("dbStats")
        return int(stats["collections"]), int(stats["indexes"])
    except Exception as exc:  # the in-memory store (and some proxies) do not answer dbStats
        logger.debug("dbStats on %s refused (%s); listing instead", name, type(exc).__name__)
    collections = await database.list_collection_names()
    indexes = 0
    for collection in collections:
        indexes += len(await database[collection].index_information())
    return len(collections), indexes


class CapacityMonitor:
    """The latest capacity report, refreshed in the background; logs a warning whenever a
    database or the cluster reaches a new level."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self.report: CapacityReport | None = None
        self._levels: dict[str, Level] = {}

    def full_databases(self) -> set[str]:
        return self.report.full_databases() if self.report else set()

    async def refresh(self) -> CapacityReport:
        report = await measure(self._store, self._settings)
        self.report = report
        levels = {d.name: report.level_of(d) for d in report.databases}
        levels["cluster"] = report.cluster_level
        if any(self._levels.get(name, Level.OK) != level for name, level in levels.items()):
            for line in report.warnings():
                logger.warning("capacity: %s", line)
        self._levels = levels
        return report

    async def run_periodically(self, interval: timedelta) -> None:
        """Count now, then every `interval` (a zero interval: this once)."""
        while True:
            try:
                await step(self.refresh())
            except Exception:
                logger.exception("capacity count failed; retrying in %s", interval or _RETRY)
                await asyncio.sleep((interval or _RETRY).total_seconds())
                continue
            if not interval:
                return
            await asyncio.sleep(interval.total_seconds())
