"""The events of deleting, restoring and purging an organization, recorded with the change.

- `organization.deleted`: the organization is gone from the API. `restorable_until` says
  until when its owners (or an operator) can restore it; null when it went for good at once.
- `organization.restored`: it is back, with every document.
- `organization.purged`: its data is gone for good. A delete for good at once (the
  contract's `DELETE /org/delete`, `?purge=true`, a zero retention period) records both
  events, `organization.deleted` first, so that every organization that goes ends with one
  `organization.purged`, whichever way it went.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from app.events.catalogue import EventType
from app.events.models import Actor, Draft
from app.events.outbox import Outbox
from app.events.subjects import organization_data, organization_event_subject
from app.kit.times import rfc3339
from app.registry.models import LifecycleState, Organization, Trash


def _data(organization: Organization, **more: Any) -> dict[str, Any]:
    return {**organization_data(organization), **more}


def deleting(
    events: Outbox, actor: Actor, organization: Organization, trash: Trash
) -> AbstractAsyncContextManager[Draft]:
    """A soft delete: in effect once the organization rests in the trash."""
    return events.recording(
        EventType.ORGANIZATION_DELETED,
        organization.id,
        actor,
        _data(organization, restorable_until=rfc3339(trash.purge_after)),
        organization_event_subject(organization.id, state=LifecycleState.DELETED.value),
    )


def restoring(
    events: Outbox, actor: Actor, organization: Organization
) -> AbstractAsyncContextManager[Draft]:
    return events.recording(
        EventType.ORGANIZATION_RESTORED,
        organization.id,
        actor,
        organization_data(organization),
        organization_event_subject(organization.id, state=LifecycleState.ACTIVE.value),
    )


def purging(
    events: Outbox, actor: Actor, organization: Organization
) -> AbstractAsyncContextManager[Draft]:
    """A purge: in effect once the registry marks the delete for good (DELETING)."""
    trash = organization.trash
    return events.recording(
        EventType.ORGANIZATION_PURGED,
        organization.id,
        actor,
        _data(organization, deleted_at=rfc3339(trash.deleted_at) if trash else None),
        organization_event_subject(organization.id, present=False),
    )


@asynccontextmanager
async def deleting_for_good(
    events: Outbox, actor: Actor, organization: Organization
) -> AsyncIterator[None]:
    """A delete for good at once: both events, judged by the same subject, so that both or
    neither are recorded."""
    async with (
        events.recording(
            EventType.ORGANIZATION_DELETED,
            organization.id,
            actor,
            _data(organization, restorable_until=None),
            organization_event_subject(organization.id, present=False),
        ),
        purging(events, actor, organization),
    ):
        yield
