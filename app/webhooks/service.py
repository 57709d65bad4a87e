"""Managing webhook endpoints, reading their attempts, and sending again."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from app.access.permissions import Permission, require
from app.access.principal import Principal
from app.db.keyset import Slice, Window
from app.errors import InvalidInput, NotFound
from app.events.catalogue import is_valid_pattern
from app.events.models import Event
from app.events.repository import EventRepository
from app.kit.times import rfc3339
from app.webhooks.messages import TEST_TYPE, body, wants
from app.webhooks.models import Attempt, Endpoint, SigningSecret
from app.webhooks.repository import DeliveryRepository, EndpointRepository
from app.webhooks.secrets import SecretBox, new_secret
from app.webhooks.subscriptions import DocumentSubscriptions
from app.webhooks.targets import TargetPolicy, check_url

TYPES_LOCATION = ("body", "types")
MAX_REPLAY = 1000


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"
    detail = "No such webhook endpoint in this organization"


class EventNotFoundForRedelivery(NotFound):
    code = "event_not_found"
    detail = "No such event in this organization (events are kept for EVENT_RETENTION_DAYS)"


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    url: str | None = None
    types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


class WebhookService:
    def __init__(
        self,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        events: EventRepository,
        box: SecretBox,
        policy: TargetPolicy,
        clock: Callable[[], datetime],
        wake: Callable[[], None] = lambda: None,
        subscriptions: DocumentSubscriptions | None = None,
    ) -> None:
        self._endpoints = endpoints
        self._deliveries = deliveries
        self._events = events
        self._box = box
        self._policy = policy
        self._clock = clock
        self._wake = wake
        self._subscriptions = subscriptions

    def on_queued(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    async def create(
        self, principal: Principal, url: str, types: list[str], description: str, enabled: bool
    ) -> tuple[Endpoint, str]:
        """A new endpoint and its signing secret, which is shown only now."""
        require(principal, Permission.MANAGE_WEBHOOKS)
        check_url(url, self._policy)
        _check_types(types)
        endpoint_id = ObjectId()
        secret = new_secret()
        now = self._clock()
        endpoint = Endpoint(
            id=endpoint_id,
            organization_id=principal.organization_id,
            url=url,
            types=types,
            description=description,
            enabled=enabled,
            secrets=[SigningSecret(self._box.seal(endpoint_id, secret), now)],
            created_at=now,
        )
        await self._endpoints.insert(endpoint)
        self._changed(principal)
        return endpoint, secret

    async def list(self, principal: Principal, window: Window) -> Slice[Endpoint]:
        require(principal, Permission.MANAGE_WEBHOOKS)
        return await self._endpoints.page(principal.organization_id, window)

    async def get(self, principal: Principal, endpoint_id: ObjectId) -> Endpoint:
        require(principal, Permission.MANAGE_WEBHOOKS)
        endpoint = await self._endpoints.get(principal.organization_id, endpoint_id)
        if endpoint is None:
            raise EndpointNotFound()
        return endpoint

    async def update(
        self, principal: Principal, endpoint_id: ObjectId, changes: EndpointChanges
    ) -> Endpoint:
        await self.get(principal, endpoint_id)
        fields: dict[str, Any] = {}
        if changes.url is not None:
            check_url(changes.url, self._policy)
            fields["url"] = changes.url
        if changes.types is not None:
            _check_types(changes.types)
            fields["types"] = changes.types
        if changes.description is not None:
            fields["description"] = changes.description
        if changes.enabled is not None:
            fields["enabled"] = changes.enabled
        if not fields:
            return await self.get(principal, endpoint_id)
        updated = await self._endpoints.update(principal.organization_id, endpoint_id, fields)
        if updated is None:
            raise EndpointNotFound()
        self._changed(principal)
        return updated

    async def delete(self, principal: Principal, endpoint_id: ObjectId) -> None:
        require(principal, Permission.MANAGE_WEBHOOKS)
        if not await self._endpoints.delete(principal.organization_id, endpoint_id):
            raise EndpointNotFound()
        await self._deliveries.fail_pending_of(endpoint_id)
        self._changed(principal)

    def _changed(self, principal: Principal) -> None:
        if self._subscriptions is not None:
            self._subscriptions.forget(principal.organization_id)

    async def rotate_secret(
        self, principal: Principal, endpoint_id: ObjectId, grace: timedelta
    ) -> tuple[str, datetime]:
        """A new secret (shown only now); the current ones keep verifying for `grace`.
        Returns the secret and when the old ones stop being used."""
        endpoint = await self.get(principal, endpoint_id)
        now = self._clock()
        until = now + grace
        kept = [
            SigningSecret(s.sealed, s.created_at, min(s.expires_at or until, until))
            for s in endpoint.secrets
            if s.live(now)
        ]
        secret = new_secret()
        fresh = SigningSecret(self._box.seal(endpoint.id, secret), now)
        await self._endpoints.set_secrets(endpoint.id, [fresh, *(s for s in kept if s.live(now))])
        return secret, until

    async def attempts(
        self, principal: Principal, endpoint_id: ObjectId, window: Window
    ) -> Slice[Attempt]:
        await self.get(principal, endpoint_id)
        return await self._deliveries.attempts(endpoint_id, window)

    async def send_test(self, principal: Principal, endpoint_id: ObjectId) -> str:
        """Queue a test message to the endpoint, whatever types it wants; its id."""
        endpoint = await self.get(principal, endpoint_id)
        now = self._clock()
        message_id = f"msg_test_{ObjectId()}"
        payload = {
            "type": TEST_TYPE,
            "timestamp": rfc3339(now),
            "data": {"endpoint_id": str(endpoint.id), "message": "A test from Tenantry"},
            "id": message_id,
            "organization_id": str(endpoint.organization_id),
        }
        await self._deliveries.enqueue(
            endpoint, message_id, TEST_TYPE, json.dumps(payload, separators=(",", ":")), now
        )
        self._wake()
        return message_id

    async def redeliver(self, principal: Principal, endpoint_id: ObjectId, event_id: str) -> None:
        """Send one event to the endpoint again (its `webhook-id` unchanged)."""
        endpoint = await self.get(principal, endpoint_id)
        event = await self._events.get(principal.organization_id, event_id)
        if event is None:
            raise EventNotFoundForRedelivery()
        await self._queue(endpoint, event)
        self._wake()

    async def replay(
        self, principal: Principal, endpoint_id: ObjectId, since: datetime, until: datetime
    ) -> int:
        """Send again the events of a time range that the endpoint wants; how many."""
        endpoint = await self.get(principal, endpoint_id)
        if until <= since:
            raise InvalidInput(("body", "until"), "must be after since")
        events = await self._events.between(principal.organization_id, since, until, MAX_REPLAY)
        queued = 0
        for event in events:
            if wants(endpoint, event.type):
                await self._queue(endpoint, event)
                queued += 1
        self._wake()
        return queued

    async def _queue(self, endpoint: Endpoint, event: Event) -> None:
        await self._deliveries.enqueue(endpoint, event.id, event.type, body(event), self._clock())


def _check_types(types: list[str]) -> None:
    if not types:
        raise InvalidInput(TYPES_LOCATION, "name at least one event type, or *")
    for pattern in types:
        if not is_valid_pattern(pattern):
            raise InvalidInput(
                TYPES_LOCATION,
                f"{pattern!r} is not an event type, a family (organization.*) or *",
            )
