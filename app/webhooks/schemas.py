"""Bodies of the webhook endpoints."""

from typing import Annotated

from pydantic import BaseModel, Field

from app.kit.request_body import RequestBody
from app.kit.times import Rfc3339Input, Timestamp
from app.webhooks.models import Attempt, Endpoint
from app.webhooks.targets import MAX_URL_LENGTH

TypePattern = Annotated[str, Field(min_length=1, max_length=64, examples=["organization.*"])]
TYPES_HELP = (
    "Event types to send: a type (`member.added`), a family (`organization.*`) or `*` (every "
    "type but tenant documents'). Tenant-document types are sent only when named "
    "(`document.*` or one of them)."
)
Url = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="https (http only with ENVIRONMENT=development); never a private address.",
        examples=["https://example.com/webhooks/tenantry"],
    ),
]
Description = Annotated[str, Field(max_length=500)]
MAX_GRACE_SECONDS = 7 * 86_400


class EndpointCreate(RequestBody):
    url: Url
    types: list[TypePattern] = Field(default=["*"], max_length=50, description=TYPES_HELP)
    description: Description = ""
    enabled: bool = True


class EndpointUpdate(RequestBody):
    url: Url | None = None
    types: list[TypePattern] | None = Field(default=None, max_length=50, description=TYPES_HELP)
    description: Description | None = None
    enabled: bool | None = None


class SecretRead(BaseModel):
    created_at: Timestamp
    expires_at: Timestamp | None = Field(
        description="Set on a secret a rotation replaced: it signs until then."
    )


class EndpointRead(BaseModel):
    id: str
    url: str
    types: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    failing_since: Timestamp | None
    created_at: Timestamp
    secrets: list[SecretRead]

    @classmethod
    def of(cls, endpoint: Endpoint) -> "EndpointRead":
        return cls(
            id=str(endpoint.id),
            url=endpoint.url,
            types=endpoint.types,
            description=endpoint.description,
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            failing_since=endpoint.failing_since,
            created_at=endpoint.created_at,
            secrets=[
                SecretRead(created_at=s.created_at, expires_at=s.expires_at)
                for s in endpoint.secrets
            ],
        )


class EndpointCreated(EndpointRead):
    secret: str = Field(
        description="The signing secret (`whsec_...`), shown only in this answer: keep it."
    )


class SecretRotation(RequestBody):
    grace_seconds: int = Field(
        default=86_400,
        ge=0,
        le=MAX_GRACE_SECONDS,
        description="How long the current secret keeps signing beside the new one.",
    )


class SecretRotated(BaseModel):
    secret: str = Field(description="The new signing secret, shown only in this answer.")
    previous_expires_at: Timestamp


class Redelivery(RequestBody):
    event_id: str = Field(min_length=1, max_length=64)


class Replay(RequestBody):
    since: Rfc3339Input
    until: Rfc3339Input


class Queued(BaseModel):
    queued: int
    message_id: str | None = None


class AttemptRead(BaseModel):
    id: str
    delivery_id: str
    message_id: str = Field(description="The `webhook-id` sent.")
    event_type: str
    at: Timestamp
    number: int = Field(description="1 for the first attempt of a delivery, then 2, ...")
    status: int | None = Field(description="The receiver's HTTP status; null if none came.")
    latency_ms: float
    excerpt: str = Field(description="The start of the receiver's answer.")
    error: str | None

    @classmethod
    def of(cls, attempt: Attempt) -> "AttemptRead":
        return cls(
            id=str(attempt.id),
            delivery_id=attempt.delivery_id,
            message_id=attempt.message_id,
            event_type=attempt.event_type,
            at=attempt.at,
            number=attempt.number,
            status=attempt.outcome.status,
            latency_ms=attempt.outcome.latency_ms,
            excerpt=attempt.outcome.excerpt,
            error=attempt.outcome.error,
        )
