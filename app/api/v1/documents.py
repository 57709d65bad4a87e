"""`/api/v1/organizations/{org_id}/documents`: the organization's own JSON documents."""

import json
from typing import Annotated, Any

from bson import json_util
from fastapi import APIRouter, Body, Header, Path, Query, Response, status

from app.access.permissions import Action, who_may
from app.api.deps import DocumentReader, DocumentsDep, DocumentWriter
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import INVALID_INPUT, UNAUTHENTICATED, Message, error
from app.db.ids import parse_object_id
from app.db.store import Document
from app.documents.schemas import DocumentBatch, TenantDocument
from app.documents.validation import equality_filter
from app.errors import InvalidInput

router = APIRouter(prefix="/api/v1/organizations/{org_id}/documents", tags=["tenant documents"])

READ: dict[int | str, dict[str, object]] = {
    **INVALID_INPUT,
    **UNAUTHENTICATED,
    403: error("The token acts for another organization, or the role may not read documents."),
    404: error("No such organization or document."),
}
WRITE: dict[int | str, dict[str, object]] = {
    **READ,
    412: error("If-Match names a version the document no longer has."),
    423: error("The organization is suspended."),
    503: error("The organization's collection is being moved by a rename; see Retry-After."),
}
DocumentPath = Annotated[str, Path(description="The document's id.")]
IfMatch = Annotated[
    str | None,
    Header(description='The version the change is based on, as the ETag gave it: `"3"`.'),
]


def _present(document: Document) -> TenantDocument:
    """As JSON: the server's `_id` as `id`, other BSON types in relaxed Extended JSON."""
    plain = json.loads(json_util.dumps(document, json_options=json_util.RELAXED_JSON_OPTIONS))
    plain.pop("_id", None)
    workspace = document.get("workspace_id")
    if workspace is not None:
        plain["workspace_id"] = str(workspace)
    return TenantDocument({"id": str(document["_id"]), **plain})


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInput(("header", "if-match"), 'If-Match takes a version such as "3"')
    return int(value)


def _tagged(response: Response, document: Document) -> TenantDocument:
    response.headers["ETag"] = f'"{document["version"]}"'
    return _present(document)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Store a document",
    description=who_may(Action.WRITE_TENANT_DOCUMENTS),
    responses=WRITE,
)
async def create(
    body: Annotated[dict[str, Any], Body()],
    caller: DocumentWriter,
    documents: DocumentsDep,
    response: Response,
) -> TenantDocument:
    [stored] = await documents.create(caller, [body])
    return _tagged(response, stored)


@router.post(
    "/batch",
    status_code=status.HTTP_201_CREATED,
    summary="Store several documents at once",
    description=who_may(Action.WRITE_TENANT_DOCUMENTS),
    responses=WRITE,
)
async def create_batch(
    body: DocumentBatch, caller: DocumentWriter, documents: DocumentsDep
) -> list[TenantDocument]:
    return [_present(stored) for stored in await documents.create(caller, body.documents)]


@router.get(
    "",
    summary="List documents",
    description=(
        f"{who_may(Action.READ_TENANT_DOCUMENTS)} Cursors (`cursor`, `next_cursor`, `Link`) "
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
    except ValueError:
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
    description=who_may(Action.READ_TENANT_DOCUMENTS),
    responses=READ,
)
async def read(
    document_id: DocumentPath, caller: DocumentReader, documents: DocumentsDep, response: Response
) -> TenantDocument:
    return _tagged(response, await documents.get(caller, document_id))


@router.put(
    "/{document_id}",
    summary="Replace a document",
    description=who_may(Action.WRITE_TENANT_DOCUMENTS),
    responses=WRITE,
)
async def replace(
    document_id: DocumentPath,
    body: Annotated[dict[str, Any], Body()],
    caller: DocumentWriter,
    documents: DocumentsDep,
    response: Response,
    if_match: IfMatch = None,
) -> TenantDocument:
    stored = await documents.replace(caller, document_id, body, _version(if_match))
    return _tagged(response, stored)


@router.patch(
    "/{document_id}",
    summary="Change some fields (JSON merge patch: null removes a field)",
    description=who_may(Action.WRITE_TENANT_DOCUMENTS),
    responses=WRITE,
)
async def patch(
    document_id: DocumentPath,
    body: Annotated[dict[str, Any], Body()],
    caller: DocumentWriter,
    documents: DocumentsDep,
    response: Response,
    if_match: IfMatch = None,
) -> TenantDocument:
    stored = await documents.patch(caller, document_id, body, _version(if_match))
    return _tagged(response, stored)


@router.delete(
    "/{document_id}",
    summary="Delete a document",
    description=who_may(Action.WRITE_TENANT_DOCUMENTS),
    responses=WRITE,
)
async def delete(
    document_id: DocumentPath,
    caller: DocumentWriter,
    documents: DocumentsDep,
    if_match: IfMatch = None,
) -> Message:
    await documents.delete(caller, document_id, _version(if_match))
    return Message(message="Document deleted")
