"""`/api/v1/organizations/{org_id}/webhooks`: endpoints, their secrets, attempts, resending."""

from datetime import timedelta
from typing import Annotated

from bson import ObjectId
from fastapi import APIRouter, Path, Request, Response, status

from app.access.permissions import Permission, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, WebhookManager, WebhooksDep
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import Message, errors
from app.db.ids import parse_object_id
from app.errors import PreconditionFailed
from app.webhooks.schemas import (
    AttemptRead,
    EndpointCreate,
    EndpointCreated,
    EndpointRead,
    EndpointUpdate,
    Queued,
    Redelivery,
    Replay,
    SecretRotated,
    SecretRotation,
)
from app.webhooks.service import EndpointChanges, EndpointNotFound, EventNotFoundForRedelivery

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/webhooks",
    tags=["webhooks"],
    generate_unique_id_function=operation_ids("webhooks"),
)

WHO = who_may(Permission.MANAGE_WEBHOOKS)
ONE = errors(*SCOPED_ERRORS, EndpointNotFound)
CONDITIONAL = errors(*SCOPED_ERRORS, EndpointNotFound, PreconditionFailed)
EndpointPath = Annotated[str, Path(description="The endpoint's id.")]


def _id(value: str) -> ObjectId:
    parsed = parse_object_id(value)
    if parsed is None:
        raise EndpointNotFound()
    return parsed


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook endpoint",
    description="The answer holds the signing secret, shown only this once. " + WHO,
    responses=errors(*SCOPED_ERRORS),
)
async def create_endpoint(
    body: EndpointCreate,
    caller: WebhookManager,
    webhooks: WebhooksDep,
    request: Request,
    response: Response,
) -> EndpointCreated:
    endpoint, secret = await webhooks.create(
        caller, body.url, body.types, body.description, body.enabled
    )
    response.headers["Location"] = f"{request.url.path}/{endpoint.id}"
    return EndpointCreated(**EndpointRead.of(endpoint).model_dump(), secret=secret)


@router.get(
    "",
    name="list",
    summary="List webhook endpoints",
    description=WHO,
    responses={**errors(*SCOPED_ERRORS), **PAGED},
)
async def list_endpoints(
    caller: WebhookManager, webhooks: WebhooksDep, page: PageQuery
) -> Page[EndpointRead]:
    listed = await webhooks.list(caller, page.window)
    return Page.of([EndpointRead.of(e) for e in listed.items], listed, page)


@router.get(
    "/{endpoint_id}", name="read", summary="Read an endpoint", description=WHO, responses=ONE
)
async def read_endpoint(
    endpoint_id: EndpointPath, caller: WebhookManager, webhooks: WebhooksDep
) -> EndpointRead:
    return EndpointRead.of(await webhooks.get(caller, _id(endpoint_id)))


@router.patch(
    "/{endpoint_id}",
    summary="Change an endpoint's URL, types, description or enabled flag",
    description="Enabling an endpoint the service disabled forgets its failures. " + WHO,
    responses=CONDITIONAL,
)
async def update_endpoint(
    endpoint_id: EndpointPath, body: EndpointUpdate, caller: WebhookManager, webhooks: WebhooksDep
) -> EndpointRead:
    changes = EndpointChanges(body.url, body.types, body.description, body.enabled)
    return EndpointRead.of(await webhooks.update(caller, _id(endpoint_id), changes))


@router.delete(
    "/{endpoint_id}", summary="Delete an endpoint", description=WHO, responses=CONDITIONAL
)
async def delete_endpoint(
    endpoint_id: EndpointPath, caller: WebhookManager, webhooks: WebhooksDep
) -> Message:
    await webhooks.delete(caller, _id(endpoint_id))
    return Message(message="Webhook endpoint deleted")


@router.post(
    "/{endpoint_id}/rotate-secret",
    summary="Rotate the signing secret",
    description="Deliveries are signed with the new secret and, until `previous_expires_at`, "
    "with the old one too, so receivers can switch without missing one. " + WHO,
    responses=ONE,
)
async def rotate_secret(
    endpoint_id: EndpointPath,
    body: SecretRotation,
    caller: WebhookManager,
    webhooks: WebhooksDep,
) -> SecretRotated:
    secret, until = await webhooks.rotate_secret(
        caller, _id(endpoint_id), timedelta(seconds=body.grace_seconds)
    )
    return SecretRotated(secret=secret, previous_expires_at=until)


@router.get(
    "/{endpoint_id}/attempts",
    name="attempts",
    summary="The endpoint's delivery attempts, newest first",
    description="Status, latency and the start of each answer. " + WHO,
    responses={**ONE, **PAGED},
)
async def list_attempts(
    endpoint_id: EndpointPath, caller: WebhookManager, webhooks: WebhooksDep, page: PageQuery
) -> Page[AttemptRead]:
    listed = await webhooks.attempts(caller, _id(endpoint_id), page.window)
    return Page.of([AttemptRead.of(a) for a in listed.items], listed, page)


@router.post(
    "/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a test message (`webhook.test`)",
    description=WHO,
    responses=ONE,
)
async def send_test(
    endpoint_id: EndpointPath, caller: WebhookManager, webhooks: WebhooksDep
) -> Queued:
    message_id = await webhooks.send_test(caller, _id(endpoint_id))
    return Queued(queued=1, message_id=message_id)


@router.post(
    "/{endpoint_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send one event to the endpoint again",
    description="With the same `webhook-id`, so a receiver that has it can tell. " + WHO,
    responses=errors(*SCOPED_ERRORS, EndpointNotFound, EventNotFoundForRedelivery),
)
async def redeliver(
    endpoint_id: EndpointPath, body: Redelivery, caller: WebhookManager, webhooks: WebhooksDep
) -> Queued:
    await webhooks.redeliver(caller, _id(endpoint_id), body.event_id)
    return Queued(queued=1, message_id=body.event_id)


@router.post(
    "/{endpoint_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send again the events of a time range",
    description="Every event from `since` (inclusive) to `until` that the endpoint wants, "
    "oldest first, at most 1000. " + WHO,
    responses=ONE,
)
async def replay(
    endpoint_id: EndpointPath, body: Replay, caller: WebhookManager, webhooks: WebhooksDep
) -> Queued:
    return Queued(queued=await webhooks.replay(caller, _id(endpoint_id), body.since, body.until))
