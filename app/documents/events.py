"""Tenant-document events (`document.created/updated/deleted`: ids and version, never a
body), recorded only for organizations with an endpoint that opted in to them, through the
same outbox as every other event (so exactly once, whatever a crash interrupts)."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from bson import ObjectId

from app.access.principal import Principal
from app.db.store import Document, Store
from app.documents.repository import TenantDocuments
from app.events.catalogue import EventType
from app.events.models import Actor, Subject
from app.events.outbox import Outbox, SubjectReader, Unsettled
from app.registry.models import LifecycleState
from app.registry.repository import OrganizationRepository
from app.webhooks.subscriptions import DocumentSubscriptions

DOCUMENT = "document"


def document_subject(organization_id: ObjectId, document_id: ObjectId, **expect: Any) -> Subject:
    key = {"organization_id": str(organization_id), "id": str(document_id)}
    return Subject(DOCUMENT, key, expect)


def document_reader(store: Store, organizations: OrganizationRepository) -> SubjectReader:
    """The document's version; unsettled while its collection is being renamed or moved."""

    async def read(key: dict[str, Any]) -> dict[str, Any] | None:
        organization = await organizations.get(ObjectId(key["organization_id"]))
        if organization is None or organization.state is LifecycleState.DELETING:
            return None
        if organization.state is not LifecycleState.ACTIVE:
            raise Unsettled()
        found = await TenantDocuments(store, organization.namespace, {}).get(ObjectId(key["id"]))
        return {"version": found.get("version")} if found else None

    return read


class DocumentEvents:
    def __init__(self, outbox: Outbox, subscriptions: DocumentSubscriptions) -> None:
        self._outbox = outbox
        self._subscriptions = subscriptions

    @asynccontextmanager
    async def created(
        self, principal: Principal, ids: list[ObjectId], workspace_id: ObjectId
    ) -> AsyncIterator[None]:
        """Around an insert of the documents `ids`: one event each."""
        async with AsyncExitStack() as stack:
            if await self._subscriptions.wanted(principal.organization_id):
                for document_id in ids:
                    data = _data(document_id, workspace_id, 1)
                    await stack.enter_async_context(
                        self._recording(EventType.DOCUMENT_CREATED, principal, data, version=1)
                    )
            yield

    @asynccontextmanager
    async def updated(self, principal: Principal, current: Document) -> AsyncIterator[None]:
        """Around the replacement of `current` by its next version."""
        async with AsyncExitStack() as stack:
            if await self._subscriptions.wanted(principal.organization_id):
                version = int(current["version"]) + 1
                data = _data(current["_id"], current.get("workspace_id"), version)
                await stack.enter_async_context(
                    self._recording(EventType.DOCUMENT_UPDATED, principal, data, version=version)
                )
            yield

    @asynccontextmanager
    async def deleted(self, principal: Principal, current: Document) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if await self._subscriptions.wanted(principal.organization_id):
                data = _data(current["_id"], current.get("workspace_id"), current.get("version"))
                await stack.enter_async_context(
                    self._recording(EventType.DOCUMENT_DELETED, principal, data, present=False)
                )
            yield

    def _recording(
        self, event_type: EventType, principal: Principal, data: dict[str, Any], **expect: Any
    ) -> Any:
        subject = document_subject(principal.organization_id, ObjectId(data["id"]), **expect)
        return self._outbox.recording(
            event_type, principal.organization_id, Actor.of(principal), data, subject
        )


def _data(document_id: object, workspace_id: object, version: object) -> dict[str, Any]:
    return {
        "id": str(document_id),
        "workspace_id": str(workspace_id) if workspace_id else None,
        "version": version,
    }
