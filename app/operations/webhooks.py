"""What operators do with events and webhooks: look at endpoints, tail events, redeliver."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.config import Settings
from app.db.ids import parse_object_id
from app.db.store import Store
from app.events.models import Event
from app.events.repository import EventRepository
from app.operations.organizations import resolve_organization
from app.webhooks.messages import body
from app.webhooks.repository import DeliveryRepository, EndpointRepository
from app.webhooks.service import EndpointNotFound, EventNotFoundForRedelivery


@dataclass(frozen=True, slots=True)
class EndpointRow:
    id: str
    organization_id: str
    url: str
    types: list[str]
    enabled: bool
    failing_since: str | None
    disabled_reason: str | None


async def list_endpoints(
    store: Store, settings: Settings, organization: str | None
) -> list[EndpointRow]:
    organization_id = (
        (await resolve_organization(store, settings, organization)).id if organization else None
    )
    return [
        EndpointRow(
            id=str(e.id),
            organization_id=str(e.organization_id),
            url=e.url,
            types=e.types,
            enabled=e.enabled,
            failing_since=e.failing_since.isoformat() if e.failing_since else None,
            disabled_reason=e.disabled_reason,
        )
        for e in await EndpointRepository(store).all(organization_id)
    ]


async def latest_events(
    store: Store, settings: Settings, organization: str | None, limit: int
) -> list[Event]:
    """The newest events, oldest of them first, of one organization or of all."""
    organization_id = (
        (await resolve_organization(store, settings, organization)).id if organization else None
    )
    return await EventRepository(store).latest(organization_id, limit)


async def redeliver(store: Store, settings: Settings, endpoint: str, event_id: str) -> None:
    """Queue the event for the endpoint again, as `POST .../redeliver` does."""
    endpoint_id = parse_object_id(endpoint)
    found = await EndpointRepository(store).by_id(endpoint_id) if endpoint_id else None
    if found is None:
        raise EndpointNotFound()
    event = await EventRepository(store).get(found.organization_id, event_id)
    if event is None:
        raise EventNotFoundForRedelivery()
    deliveries = DeliveryRepository(store, timedelta(days=settings.webhook_retention_days))
    await deliveries.enqueue(found, event.id, event.type, body(event), datetime.now(UTC))
