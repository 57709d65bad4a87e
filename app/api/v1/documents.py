"""`/api/v1/organizations/{org_id}/documents`: the organization's own JSON documents."""

import json
from datetime import datetime
from typing import Annotated, Any

from bson import json_util
from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from app.access.permissions import Permission, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, DocumentReader, DocumentsDep, DocumentWriter
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import Message, errors
from app.db.ids import parse_object_id
from app.db.store import Document
from app.documents.schemas import DocumentBatch, DocumentFields, TenantDocument
from app.documents.service import (
    ArchivedWorkspace,
    DocumentNotFound,
    IfMatch,
    ReadOnlyWorkspace,
    StaleVersion,
    TenantMoving,
)
from app.documents.validation import SERVER_FIELDS, equality_filter
from app.errors import InvalidInput
from app.kit.times import rfc3339
from app.registry.errors import OrganizationSuspended
from app.registry.write_leases import TenantBusy
from app.workspaces.access import NotAWorkspaceMember, WorkspaceNotFound

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/documents",
    tags=["documents"],
    generate_unique_id_function=operation_ids("documents"),
)

READ_ERRORS = (*SCOPED_ERRORS, DocumentNotFound, WorkspaceNotFound, NotAWorkspaceMember)
READ = errors(*READ_ERRORS)
WRITE = errors(
    *READ_ERRORS,
    ReadOnlyWorkspace,
    ArchivedWorkspace,
    StaleVersion,
    OrganizationSuspended,
    TenantMoving,
    TenantBusy,
)
DocumentPath = Annotated[str, Path(description="The document's id.")]
IfMatchHeader = Annotated[
    str | None,
    Header(
        description="Only if the document still has one of these versions, as ETags give them: "
        '`"3"`, `"3", "4"`, or `*`.',
    ),
]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _present(document: Document) -> TenantDocument:
    """As JSON: the server's fields typed, the caller's as they were stored (times in RFC 3339,
    other BSON types in relaxed Extended JSON)."""
    own = {key: value for key, value in document.items() if key not in SERVER_FIELDS}
    plain = json.loads(json_util.dumps(_plain(own), json_options=json_util.RELAXED_JSON_OPTIONS))
    workspace = document.get("workspace_id")
    return TenantDocument.model_validate(
        {
            **plain,
            "id": str(document["_id"]),
            "workspace_id": str(workspace) if workspace is not None else None,
            "created_at": document.get("created_at"),
            "updated_at": document.get("updated_at"),
            "version": document.get("version"),
        }
    )


def _if_match(value: str | None) -> IfMatch | None:
    """RFC 9110 13.1.1: `*`, or entity tags; weak ones never match (strong comparison)."""
    if value is None:
        return None
    if value.strip() == "*":
        return IfMatch(None)
    versions: set[int] = set()
    for tag in value.split(","):
        tag = tag.strip()
        weak = tag.startswith("W/")
        opaque = tag.removeprefix("W/")
        if len(opaque) < 2 or not (opaque.startswith('"') and opaque.endswith('"')):
            raise InvalidInput(
                ("header", "if-match"), 'If-Match takes entity tags such as "3", or *'
            )
        if not weak and opaque[1:-1].isdigit():
            versions.add(int(opaque[1:-1]))
    return IfMatch(frozenset(versions))


def _tagged(response: Response, document: Document) -> TenantDocument:
    if "version" in document:  # else the ETag is the body's (app.api.conditional)
        response.headers["ETag"] = f'"{document["version"]}"'
    return _present(document)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Store a document",
    description=who_may(Permission.WRITE_TENANT_DOCUMENTS),
    responses=WRITE,
)
async def create(
    body: DocumentFields,
    caller: DocumentWriter,
    documents: DocumentsDep,
    request: Request,
    response: Response,
) -> TenantDocument:
    stored = await documents.create_one(caller, body.root)
    response.headers["Location"] = f"{request.url.path}/{stored['_id']}"
    return _tagged(response, stored)


@router.post(
    "/batch",
    status_code=status.HTTP_201_CREATED,
    summary="Store several documents at once",
    description=f"{who_may(Permission.WRITE_TENANT_DOCUMENTS)} All are stored or none. "
    "`Location` is the collection they joined.",
    responses=WRITE,
)
async def create_batch(
    body: DocumentBatch,
    caller: DocumentWriter,
    documents: DocumentsDep,
    request: Request,
    response: Response,
) -> list[TenantDocument]:
    response.headers["Location"] = request.url.path.removesuffix("/batch")
    return [
        _present(stored)
        for stored in await documents.create(caller, [fields.root for fields in body.documents])
    ]


@router.get(
    "",
    name="list",
    summary="List documents",
    description=(
        f"{who_may(Permission.READ_TENANT_DOCUMENTS)} Cursors (`cursor`, `next_cursor`, `Link`) "
        "page in `created_at` order, either way: it is set once per document, so a walk never "
        "repeats or skips one. Other sort fields change with every write, or are your own and "
        "may be missing or mixed; with them, page by `offset` (`next_cursor` is null and "
        "`cursor` is refused)."
    ),
    responses={**READ, **PAGED},
)
async def list_documents(
    caller: DocumentReader,
    documents: DocumentsDep,
    page: PageQuery,
    where: Annotated[
        str | None,
        Query(description='Equality on top-level fields, as JSON: `{"status": "open"}`.'),
    ] = None,
    sort: Annotated[
        str, Query(description="Field to sort on, then `id`. Cursors need `created_at`.")
    ] = "created_at",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
    workspace_id: Annotated[
        str | None,
        Query(description="Owners and admins: only this workspace (default: every one)."),
    ] = None,
) -> Page[TenantDocument]:
    try:
        raw = json.loads(where) if where else {}
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise InvalidInput(("query", "where"), "where must be JSON") from None
    workspace = None
    if workspace_id is not None:
        workspace = parse_object_id(workspace_id)
        if workspace is None:
            raise InvalidInput(("query", "workspace_id"), "not a workspace id")
    listed = await documents.list(
        caller, equality_filter(raw), sort, order == "desc", page.window, workspace
    )
    return Page.of([_present(d) for d in listed.items], listed, page)


@router.get(
    "/{document_id}",
    summary="Read a document",
    description=who_may(Permission.READ_TENANT_DOCUMENTS),
    responses=READ,
)
async def read(
    document_id: DocumentPath, caller: DocumentReader, documents: DocumentsDep, response: Response
) -> TenantDocument:
    return _tagged(response, await documents.get(caller, document_id))


@router.put(
    "/{document_id}",
    summary="Replace a document",
    description=who_may(Permission.WRITE_TENANT_DOCUMENTS),
    responses=WRITE,
)
async def replace(
    document_id: DocumentPath,
    body: DocumentFields,
    caller: DocumentWriter,
    documents: DocumentsDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> TenantDocument:
    stored = await documents.replace(caller, document_id, body.root, _if_match(if_match))
    return _tagged(response, stored)


@router.patch(
    "/{document_id}",
    summary="Change some fields (JSON merge patch: null removes a field)",
    description=who_may(Permission.WRITE_TENANT_DOCUMENTS),
    responses=WRITE,
)
async def patch(
    document_id: DocumentPath,
    body: DocumentFields,
    caller: DocumentWriter,
    documents: DocumentsDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> TenantDocument:
    stored = await documents.patch(caller, document_id, body.root, _if_match(if_match))
    return _tagged(response, stored)


@router.delete(
    "/{document_id}",
    summary="Delete a document",
    description=who_may(Permission.WRITE_TENANT_DOCUMENTS),
    responses=WRITE,
)
async def delete(
    document_id: DocumentPath,
    caller: DocumentWriter,
    documents: DocumentsDep,
    if_match: IfMatchHeader = None,
) -> Message:
    await documents.delete(caller, document_id, _if_match(if_match))
    return Message(message="Document deleted")
