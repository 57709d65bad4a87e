"""The rules of the tenant data plane.

Every operation reaches exactly one collection: the one the registry names for the caller's
organization, so one organization can never read, count or guess another's documents.
Inside it, documents belong to workspaces: owners and admins see them all, everyone else
only those of the workspace their token works in. Writes hold a write lease (see
`app.registry.write_leases`) and are refused with 503 while a rename moves the
collection.

Callers are let in by their organization role at the door (`DocumentReader` and
`DocumentWriter` in `app.api.deps`, from the roles table); this service applies what only the
data can tell: the workspace's rules, suspension, and where the collection is.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from bson import ObjectId
from pymongo.errors import OperationFailure

from app.access.principal import Principal
from app.db.ids import parse_object_id
from app.db.keyset import Slice, Window
from app.db.store import Document, Store, TenantNamespace
from app.documents.events import DocumentEvents
from app.documents.repository import TenantDocuments
from app.documents.validation import (
    DocumentLimits,
    check_document,
    check_field_name,
    check_patch,
)
from app.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
)
from app.registry.errors import OrganizationNotFound, OrganizationSuspended
from app.registry.models import LifecycleState, Organization, Status
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCollections
from app.registry.write_leases import WriteLeases
from app.sessions.caller import Caller
from app.workspaces.access import WorkspaceAccess, WorkspaceContext

T = TypeVar("T")
# A read racing a rename or move: its cursor was killed or lost (QueryPlanKilled,
# CursorNotFound, CursorKilled, OperationFailed) or the collection went (NamespaceNotFound).
_MOVED_AWAY_CODES = frozenset({26, 43, 96, 175, 237})

SORTABLE_SERVER_FIELDS = ("created_at", "updated_at", "version")
_SERVER_KEYS = frozenset({"_id", "workspace_id", "created_at", "updated_at", "version"})


@dataclass(frozen=True, slots=True)
class IfMatch:
    """An `If-Match` precondition on a document's version: `*` (any), or a set of versions."""

    versions: frozenset[int] | None  # None: "*"

    def allows(self, version: int) -> bool:
        return self.versions is None or version in self.versions


class DocumentNotFound(NotFound):
    code = "document_not_found"
    detail = "Document not found"


class StaleVersion(PreconditionFailed):
    detail = "The document has changed since that version (If-Match); read it again"


class TenantMoving(ServiceUnavailable):
    code = "tenant_moving"
    detail = "The organization's data is being moved by a rename; try again in a moment"


class ReadOnlyWorkspace(Forbidden):
    code = "workspace_read_only"
    detail = "Your role in this workspace does not allow changing its documents"


class ArchivedWorkspace(Conflict):
    code = "workspace_archived_read_only"
    detail = "The workspace is archived; unarchive it before changing its documents"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


class DocumentService:
    def __init__(
        self,
        store: Store,
        organizations: OrganizationRepository,
        leases: WriteLeases,
        workspaces: WorkspaceAccess,
        limits: DocumentLimits,
        events: DocumentEvents,
    ) -> None:
        self._store = store
        self._tenants = TenantCollections(store)
        self._organizations = organizations
        self._leases = leases
        self._workspaces = workspaces
        self._limits = limits
        self._events = events

    @asynccontextmanager
    async def lease(self, organization_id: ObjectId) -> AsyncIterator[None]:
        """Hold the organization's write lease; a caller checked inside it (`Caller.leased`)
        writes where its check read the collection to be."""
        lease = await self._leases.acquire(organization_id)
        try:
            yield
        finally:
            await self._leases.release(lease)

    async def create_one(self, caller: Caller, body: Any) -> Document:
        check_document(body, self._limits, ("body",))
        [stored] = await self._insert(caller, [body])
        return stored

    async def create(self, caller: Caller, bodies: list[Any]) -> list[Document]:
        if not 1 <= len(bodies) <= self._limits.max_batch:
            raise InvalidInput(
                ("body", "documents"), f"send 1 to {self._limits.max_batch} documents at once"
            )
        for index, body in enumerate(bodies):
            check_document(body, self._limits, ("body", "documents", index))
        return await self._insert(caller, bodies)

    async def _insert(self, caller: Caller, bodies: list[Any]) -> list[Document]:
        async with self._writing(caller) as (documents, context):
            ids = [ObjectId() for _ in bodies]
            async with self._events.created(caller.principal, ids, context.workspace.id):
                return await documents.insert(bodies, context.workspace.id, ids)

    async def get(self, caller: Caller, document_id: str) -> Document:
        async def read(documents: TenantDocuments) -> Document:
            return await self._existing(documents, document_id)

        return await self._read(caller, None, read, lambda _: False)

    async def list(
        self,
        caller: Caller,
        where: dict[str, Any],
        sort: str,
        descending: bool,
        window: Window,
        workspace_id: ObjectId | None = None,
    ) -> Slice[Document]:
        if sort not in SORTABLE_SERVER_FIELDS:
            check_field_name(sort, ("query", "sort"))

        async def read(documents: TenantDocuments) -> Slice[Document]:
            return await documents.page(where, sort, descending, window, caller.organization.id)

        return await self._read(caller, workspace_id, read, lambda page: not page.items)

    async def replace(
        self, caller: Caller, document_id: str, body: Any, if_match: IfMatch | None
    ) -> Document:
        check_document(body, self._limits, ("body",))
        async with self._writing(caller) as (documents, _):
            current = await self._existing(documents, document_id)
            async with self._events.updated(caller.principal, current):
                return await self._store_version(documents, current, body, if_match)

    async def patch(
        self, caller: Caller, document_id: str, patch: Any, if_match: IfMatch | None
    ) -> Document:
        check_patch(patch, self._limits, ("body",))
        async with self._writing(caller) as (documents, _):
            current = await self._existing(documents, document_id)
            user_fields = {k: v for k, v in current.items() if k not in _SERVER_KEYS}
            merged = merge_patch(user_fields, patch)
            check_document(merged, self._limits, ("body",))
            async with self._events.updated(caller.principal, current):
                return await self._store_version(documents, current, merged, if_match)

    async def delete(self, caller: Caller, document_id: str, if_match: IfMatch | None) -> None:
        async with self._writing(caller) as (documents, _):
            current = await self._existing(documents, document_id)
            if if_match is not None and not if_match.allows(current["version"]):
                raise StaleVersion()
            version = current["version"] if if_match is not None else None
            async with self._events.deleted(caller.principal, current):
                if not await documents.delete(current["_id"], version):
                    raise StaleVersion() if if_match is not None else DocumentNotFound()

    async def _store_version(
        self,
        documents: TenantDocuments,
        current: Document,
        body: Document,
        if_match: IfMatch | None,
    ) -> Document:
        if if_match is not None and not if_match.allows(current["version"]):
            raise StaleVersion()
        stored = await documents.replace(current, body)
        if stored is None:  # changed by a concurrent write since it was read
            raise StaleVersion()
        return stored

    async def _read(
        self,
        caller: Caller,
        workspace_id: ObjectId | None,
        read: Callable[[TenantDocuments], Awaitable[T]],
        looks_moved: Callable[[T], bool],
    ) -> T:
        """`read` from where the registry says the documents are; once more from where it
        says next if a rename or move took the collection away meanwhile: the read then
        fails (its cursor killed, the namespace gone), finds nothing, or, for `get`, no such
        document, and the registry names another collection."""
        scope = await self._scope(caller, workspace_id)
        namespace = await self._readable(caller.organization)
        try:
            found = await read(TenantDocuments(self._store, namespace, scope))
        except (OperationFailure, DocumentNotFound) as error:
            if isinstance(error, OperationFailure) and error.code not in _MOVED_AWAY_CODES:
                raise
            elsewhere = await self._moved_from(caller, namespace)
            if elsewhere is None:
                raise
            return await read(TenantDocuments(self._store, elsewhere, scope))
        if looks_moved(found):
            elsewhere = await self._moved_from(caller, namespace)
            if elsewhere is not None:
                return await read(TenantDocuments(self._store, elsewhere, scope))
        return found

    async def _moved_from(
        self, caller: Caller, namespace: TenantNamespace
    ) -> TenantNamespace | None:
        """Where reads go now, if no longer `namespace`."""
        now = await self._readable(await self._organization(caller.principal))
        return now if self._store.resolve(now) != self._store.resolve(namespace) else None

    async def _readable(self, organization: Organization) -> TenantNamespace:
        """Where reads go: the recorded collection, or, once a rename or move has taken it
        away and the registry is about to catch up, the collection it went to."""
        namespace = organization.namespace
        rename, move = organization.pending_rename, organization.pending_move
        if (rename or move) and not await self._tenants.exists(namespace):
            if rename:
                return organization.namespace_of(rename.tenant_collection)
            if move:
                return TenantNamespace(move.target, organization.tenant_collection)
        return namespace

    async def _scope(self, caller: Caller, workspace_id: ObjectId | None) -> dict[str, Any]:
        """Owners and admins read across workspaces unless they ask for one."""
        if caller.principal.organization_wide and workspace_id is None:
            return {}
        context = await self._context(caller, workspace_id)
        return {"workspace_id": context.workspace.id}

    async def _context(self, caller: Caller, workspace_id: ObjectId | None) -> WorkspaceContext:
        if caller.workspace is not None and workspace_id in (None, caller.workspace.workspace.id):
            return caller.workspace
        return await self._workspaces.context(caller.principal, workspace_id)

    @asynccontextmanager
    async def _writing(
        self, caller: Caller
    ) -> AsyncIterator[tuple[TenantDocuments, WorkspaceContext]]:
        context = await self._context(caller, None)
        if not context.can_write:
            raise ReadOnlyWorkspace()
        if context.workspace.archived:
            raise ArchivedWorkspace()
        if caller.leased:
            yield self._writable(caller, caller.organization, context), context
            return
        async with self.lease(caller.organization.id):
            # Read where the collection is only once the lease is held (see WriteLeases).
            organization = await self._organization(caller.principal)
            yield self._writable(caller, organization, context), context

    def _writable(
        self, caller: Caller, organization: Organization, context: WorkspaceContext
    ) -> TenantDocuments:
        if organization.state is not LifecycleState.ACTIVE:
            raise TenantMoving()
        if organization.status is Status.SUSPENDED:
            raise OrganizationSuspended()
        scope = {} if caller.principal.organization_wide else {"workspace_id": context.workspace.id}
        return TenantDocuments(self._store, organization.namespace, scope)

    async def _organization(self, principal: Principal) -> Organization:
        organization = await self._organizations.get_visible(principal.organization_id)
        if organization is None:
            raise OrganizationNotFound()
        return organization

    @staticmethod
    async def _existing(documents: TenantDocuments, document_id: str) -> Document:
        # A missing document answers 404 with or without If-Match: RFC 9110 13.2.1 has
        # preconditions ignored when the answer without them would not be a success.
        parsed = parse_object_id(document_id)
        found = await documents.get(parsed) if parsed else None
        if found is None:
            raise DocumentNotFound()
        return found
