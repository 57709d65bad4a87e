"""An API key as events show it, and how recovery reads it to judge a pending event."""

from typing import Any

from bson import ObjectId

from app.apikeys.models import ApiKey
from app.apikeys.repository import ApiKeyRepository
from app.events.models import Subject
from app.events.outbox import SubjectReader
from app.kit.times import rfc3339

API_KEY = "api_key"


def key_subject(key: ApiKey, **expect: Any) -> Subject:
    return Subject(
        API_KEY, {"id": str(key.id), "organization_id": str(key.organization_id)}, expect
    )


def key_data(key: ApiKey) -> dict[str, Any]:
    """The key as the API lists it: never its secret, nor the hash kept of it."""
    return {
        "id": str(key.id),
        "prefix": key.prefix,
        "name": key.name,
        "role": str(key.role),
        "workspace_id": str(key.workspace_id) if key.workspace_id else None,
        "created_by": str(key.created_by),
        "created_by_email": key.created_by_email,
        "created_at": rfc3339(key.created_at),
        "expires_at": rfc3339(key.expires_at) if key.expires_at else None,
        "revoked_at": rfc3339(key.revoked_at) if key.revoked_at else None,
    }


def key_reader(keys: ApiKeyRepository) -> SubjectReader:
    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        found = await keys.get(ObjectId(key["organization_id"]), ObjectId(key["id"]))
        return {"revoked": found.revoked_at is not None} if found else None

    return read
