"""An endpoint as events show it, and how recovery reads it to judge a pending event."""

from typing import Any

from bson import ObjectId

from app.events.models import Subject
from app.events.outbox import SubjectReader
from app.kit.times import rfc3339
from app.webhooks.models import Endpoint
from app.webhooks.repository import EndpointRepository

WEBHOOK_ENDPOINT = "webhook_endpoint"


def endpoint_subject(endpoint: Endpoint, **expect: Any) -> Subject:
    return Subject(WEBHOOK_ENDPOINT, {"id": str(endpoint.id)}, expect)


def endpoint_data(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "types": endpoint.types,
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "created_at": rfc3339(endpoint.created_at),
    }


def endpoint_reader(endpoints: EndpointRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        endpoint = await endpoints.by_id(ObjectId(key["id"]))
        return {"enabled": endpoint.enabled} if endpoint else None

    return read
