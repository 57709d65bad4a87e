"""What a webhook carries, and which endpoints want which events."""

import json
from typing import Any

from app.events.catalogue import matches
from app.events.models import Event
from app.kit.times import rfc3339
from app.webhooks.models import Endpoint

TEST_TYPE = "webhook.test"


def message(event: Event) -> dict[str, Any]:
    """The Standard Webhooks payload shape (`type`, `timestamp`, `data`) with the event's
    other fields beside them."""
    return {
        "type": event.type,
        "timestamp": rfc3339(event.occurred_at),
        "data": event.data,
        "id": event.id,
        "organization_id": str(event.organization_id),
        "sequence": event.sequence,
        "actor": event.actor.to_document(),
    }


def body(event: Event) -> str:
    return json.dumps(message(event), separators=(",", ":"), ensure_ascii=False)


def wants(endpoint: Endpoint, event_type: str) -> bool:
    return any(matches(pattern, event_type) for pattern in endpoint.types)
