"""Prometheus metrics, one registry per application instance.

Exposed at `/metrics`: request counts and latency by route template and status, requests in
flight, login failures, organizations by lifecycle state (counted when scraped), rename
durations by how the collection moved, MongoDB command latency and failures by command name
and connection pool usage, collections and indexes per database against the capacity limits
(from the latest background count, `CAPACITY_REFRESH_SECONDS`), webhook attempts by outcome
and latency with the delivery queue's depth and oldest due age, and the standard process,
platform and garbage-collector series. Counters carry no `_created` companion series.
"""

from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from pymongo import monitoring

if TYPE_CHECKING:
    from app.registry.capacity import CapacityReport

_LEVELS = {"ok": 0, "warning": 1, "over": 2}
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_RENAME_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900)
_COMMAND_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5)

# A `_created` series beside every counter and histogram doubles what is scraped and is of use
# to no dashboard.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.in_flight = Gauge(
            "tenantry_http_requests_in_flight",
            "HTTP requests being answered right now.",
            registry=self.registry,
        )
        self.requests = Counter(
            "tenantry_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tenantry_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.login_failures = Counter(
            "tenantry_login_failures",
            "Refused logins and step-up confirmations, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.organizations = Gauge(
            "tenantry_organizations",
            "Organizations in the registry, by lifecycle state.",
            ["state"],
            registry=self.registry,
        )
        self.rename_duration = Histogram(
            "tenantry_rename_duration_seconds",
            "Time to move a tenant collection on rename, by how it moved.",
            ["how"],
            buckets=_RENAME_BUCKETS,
            registry=self.registry,
        )
        self.command_duration = Histogram(
            "tenantry_mongodb_command_duration_seconds",
            "Time MongoDB took to answer a command, by command name.",
            ["command"],
            buckets=_COMMAND_BUCKETS,
            registry=self.registry,
        )
        self.command_failures = Counter(
            "tenantry_mongodb_command_failures",
            "MongoDB commands that failed, by command name.",
            ["command"],
            registry=self.registry,
        )
        self.pool_checked_out = Gauge(
            "tenantry_mongo_pool_connections_in_use",
            "MongoDB connections currently checked out of the pool.",
            registry=self.registry,
        )
        self.pool_open = Gauge(
            "tenantry_mongo_pool_connections_open",
            "MongoDB connections currently open in the pool.",
            registry=self.registry,
        )

        self.database_collections = Gauge(
            "tenantry_database_collections",
            "Collections per database at the latest capacity count.",
            ["database", "role"],
            registry=self.registry,
        )
        self.database_indexes = Gauge(
            "tenantry_database_indexes",
            "Indexes per database at the latest capacity count.",
            ["database", "role"],
            registry=self.registry,
        )
        self.database_organizations = Gauge(
            "tenantry_database_organizations",
            "Tenant collections the registry places in each database.",
            ["database"],
            registry=self.registry,
        )
        self.database_capacity_level = Gauge(
            "tenantry_database_capacity_level",
            "Collections plus indexes against CAPACITY_DATABASE_LIMIT: 0 ok, 1 warning, 2 over.",
            ["database"],
            registry=self.registry,
        )
        self.cluster_namespaces = Gauge(
            "tenantry_cluster_collections_and_indexes",
            "Collections plus indexes in every database of the cluster.",
            registry=self.registry,
        )
        self.cluster_capacity_level = Gauge(
            "tenantry_cluster_capacity_level",
            "Collections plus indexes against CAPACITY_CLUSTER_LIMIT: 0 ok, 1 warning, 2 over.",
            registry=self.registry,
        )
        self.capacity_limit = Gauge(
            "tenantry_capacity_limit",
            "Collections plus indexes planned for, per database and per cluster.",
            ["scope"],
            registry=self.registry,
        )
        self.capacity_counted_at = Gauge(
            "tenantry_capacity_counted_timestamp_seconds",
            "When collections and indexes were last counted (Unix time).",
            registry=self.registry,
        )
        self.webhook_deliveries = Counter(
            "tenantry_webhook_attempts",
            "Webhook attempts, by outcome: delivered, retrying (failed, tried again later), "
            "failed (the last attempt of the schedule failed), refused (SSRF guard).",
            ["outcome"],
            registry=self.registry,
        )
        self.webhook_latency = Histogram(
            "tenantry_webhook_attempt_duration_seconds",
            "Time from sending a webhook to its answer (or to giving up on one).",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.webhook_queue_depth = Gauge(
            "tenantry_webhook_queue_depth",
            "Webhook deliveries waiting for an attempt (due or scheduled for a retry).",
            registry=self.registry,
        )
        self.webhook_oldest_pending = Gauge(
            "tenantry_webhook_oldest_pending_age_seconds",
            "How long the longest-waiting due webhook delivery has been due (0 when none is).",
            registry=self.registry,
        )
        self.events_awaiting_fanout = Gauge(
            "tenantry_events_awaiting_fanout",
            "Committed events the webhook worker has not yet queued deliveries for.",
            registry=self.registry,
        )

    def show_capacity(self, report: "CapacityReport") -> None:
        """Set the capacity gauges from a count; databases gone since drop out."""
        for gauge in (
            self.database_collections,
            self.database_indexes,
            self.database_organizations,
            self.database_capacity_level,
        ):
            gauge.clear()
        for database in report.databases:
            self.database_collections.labels(database.name, database.role).set(database.collections)
            self.database_indexes.labels(database.name, database.role).set(database.indexes)
            self.database_organizations.labels(database.name).set(database.organizations)
            self.database_capacity_level.labels(database.name).set(
                _LEVELS[report.level_of(database)]
            )
        self.cluster_namespaces.set(report.cluster_namespaces)
        self.cluster_capacity_level.set(_LEVELS[report.cluster_level])
        self.capacity_limit.labels("database").set(report.limits.database)
        self.capacity_limit.labels("cluster").set(report.limits.cluster)
        self.capacity_counted_at.set(report.measured_at.timestamp())

    def driver_listeners(
        self,
    ) -> list[monitoring.CommandListener | monitoring.ConnectionPoolListener]:
        """What the MongoDB client reports its pool and its commands to."""
        return [PoolListener(self), CommandListener(self)]

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class PoolListener(monitoring.ConnectionPoolListener):
    """Follows the driver's pool events; the gauges are the pool's state right now."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def connection_created(self, event: Any) -> None:
        self._metrics.pool_open.inc()

    def connection_closed(self, event: Any) -> None:
        self._metrics.pool_open.dec()

    def connection_checked_out(self, event: Any) -> None:
        self._metrics.pool_checked_out.inc()

    def connection_checked_in(self, event: Any) -> None:
        self._metrics.pool_checked_out.dec()

    def pool_created(self, event: Any) -> None:
        return None

    def pool_ready(self, event: Any) -> None:
        return None

    def pool_cleared(self, event: Any) -> None:
        return None

    def pool_closed(self, event: Any) -> None:
        return None

    def connection_ready(self, event: Any) -> None:
        return None

    def connection_check_out_started(self, event: Any) -> None:
        return None

    def connection_check_out_failed(self, event: Any) -> None:
        return None


class CommandListener(monitoring.CommandListener):
    """Follows the driver's command monitoring: how long each command took, and which failed.

    Command names are the driver's (`find`, `insert`, `aggregate`, ...), a bounded set."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        return None

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._metrics.command_duration.labels(event.command_name).observe(
            event.duration_micros / 1_000_000
        )

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._metrics.command_duration.labels(event.command_name).observe(
            event.duration_micros / 1_000_000
        )
        self._metrics.command_failures.labels(event.command_name).inc()
