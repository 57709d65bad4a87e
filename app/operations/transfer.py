"""Tenant documents out to a file and back: JSON Lines in MongoDB Extended JSON.

Canonical Extended JSON keeps every BSON type (`$numberInt` vs `$numberLong`, `$date`,
`$numberDecimal`, `$binary` with its subtype, `$oid`), so an import writes back exactly the
documents exported, `_id`s included. The files are what `mongoexport --jsonFormat canonical`
writes, one document per line, optionally gzipped.

Encoding, decoding and file access run in worker threads so that the event loop stays free.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import IO, Protocol

from bson import ObjectId
from bson.binary import UuidRepresentation
from bson.codec_options import DatetimeConversion
from bson.json_util import CANONICAL_JSON_OPTIONS
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from app.config import Settings
from app.db.store import Document, Store
from app.operations.errors import DocumentsAlreadyExist, ForeignExport, ImportInterrupted
from app.operations.json_lines import JsonLinesReader, JsonLinesWriter
from app.operations.organizations import resolve_settled_organization
from app.registry.models import Organization
from app.workspaces.repository import WorkspaceRepository

# UUIDs a server hands back (the service reads with uuidRepresentation=standard) are written
# as binary subtype 4, and read back as that binary, which every client stores unchanged.
WRITE_OPTIONS = CANONICAL_JSON_OPTIONS.with_options(uuid_representation=UuidRepresentation.STANDARD)
READ_OPTIONS = CANONICAL_JSON_OPTIONS.with_options(
    tz_aware=True,
    tzinfo=UTC,
    # Dates outside Python's range come back as DatetimeMS rather than failing the import.
    datetime_conversion=DatetimeConversion.DATETIME_AUTO,
)
BATCH_SIZE = 500
# Replacements go one document at a time (an upsert each); this many are in flight at once.
REPLACE_CONCURRENCY = 50


class Progress(Protocol):
    def phase(self, label: str, total: int | None = None) -> None:
        """A named step begins, with `total` items to go (None: not known)."""

    def advance(self, count: int) -> None: ...


@dataclass(frozen=True, slots=True)
class TransferResult:
    organization: str
    collection: str
    documents: int
    # None when written to or read from a stream (standard output or input).
    path: Path | None
    compressed: bool = False
    replaced: int = 0
    # Workspaces the imported documents name that the organization does not have: the file
    # came from another organization (imported anyway, as --force asked).
    foreign_workspaces: list[str] = field(default_factory=list)


async def export_tenant(
    store: Store,
    settings: Settings,
    reference: str,
    destination: Path | IO[bytes],
    *,
    compress: bool,
    progress: Progress,
) -> TransferResult:
    """Write the organization's tenant documents to `destination`, in `_id` order.

    A file appears only once complete: a failed export leaves no half-written file. A stream
    (standard output) gets the documents as they are read.
    """
    organization = await resolve_settled_organization(store, settings, reference)
    collection = store.collection(organization.namespace)
    progress.phase("counting documents")
    progress.phase("exporting", await collection.estimated_document_count())
    writer = await asyncio.to_thread(JsonLinesWriter, destination, compress, WRITE_OPTIONS)
    written = 0
    try:
        batch: list[Document] = []
        async for document in collection.find({}).sort("_id", 1):
            batch.append(document)
            if len(batch) >= BATCH_SIZE:
                written += await _write(writer, batch, progress)
                batch = []
        written += await _write(writer, batch, progress)
        await asyncio.to_thread(writer.commit)
    except BaseException:
        await asyncio.to_thread(writer.abort)
        raise
    path = destination if isinstance(destination, Path) else None
    return TransferResult(
        organization.name, organization.tenant_collection, written, path, compress
    )


async def import_tenant(
    store: Store,
    settings: Settings,
    reference: str,
    path: Path,
    *,
    replace: bool,
    progress: Progress,
    force: bool = False,
    label: str | None = None,
) -> TransferResult:
    """Load a file written by `export_tenant` into the organization's tenant collection.

    The whole file is read and checked first (every line must decode; without `replace`, no
    `_id` may exist already; without `force`, every `workspace_id` must be one of the
    organization's workspaces), so a bad file, a clash or another organization's export
    imports nothing. `label` names the file in messages (e.g. standard input).
    """
    organization = await resolve_settled_organization(store, settings, reference)
    name = organization.tenant_collection
    target = store.collection(organization.namespace)
    progress.phase("checking the file")
    check = await _check_file(target, name, path, check_existing=not replace, label=label)
    foreign = await _foreign_workspaces(store, organization, check.workspaces)
    if foreign and not force:
        raise ForeignExport(organization.name, len(foreign), check.naming_foreign(foreign))
    progress.phase("importing", check.total)
    reader = await asyncio.to_thread(JsonLinesReader, path, READ_OPTIONS, label)
    written = replaced = 0
    batch: list[tuple[int, Document]] = []
    try:
        while batch := await asyncio.to_thread(reader.read_batch, BATCH_SIZE):
            documents = [document for _, document in batch]
            if replace:
                replaced += await _replace(target, documents)
            else:
                await target.insert_many(documents, ordered=True)
            written += len(documents)
            progress.advance(len(documents))
    except BulkWriteError as exc:
        inserted = int(exc.details.get("nInserted", 0))
        written += inserted
        raise ImportInterrupted(name, written, _refusal(exc, batch, inserted)) from None
    except DuplicateKeyError as exc:
        raise ImportInterrupted(name, written, f"an _id already exists ({exc})") from None
    finally:
        await asyncio.to_thread(reader.close)
    compressed = reader.compressed
    return TransferResult(
        organization.name,
        name,
        written,
        path if label is None else None,
        compressed,
        replaced,
        sorted(str(workspace) for workspace in foreign),
    )


def _refusal(error: BulkWriteError, batch: list[tuple[int, Document]], inserted: int) -> str:
    """What the server said about the first document it refused, and the line it came from."""
    write_errors = error.details.get("writeErrors") or []
    first = write_errors[0] if write_errors else {}
    index = first.get("index", inserted)
    line = f" (line {batch[index][0]})" if isinstance(index, int) and index < len(batch) else ""
    cause = first.get("errmsg") or str(error)
    code = f", code {first['code']}" if "code" in first else ""
    return f"the server refused a document{line}: {cause}{code}"


@dataclass(slots=True)
class _FileCheck:
    total: int = 0
    # Each workspace_id the file names, with how many documents name it.
    workspaces: dict[ObjectId, int] = field(default_factory=dict)

    def naming_foreign(self, foreign: set[ObjectId]) -> int:
        return sum(self.workspaces[workspace] for workspace in foreign)


async def _foreign_workspaces(
    store: Store, organization: Organization, workspaces: dict[ObjectId, int]
) -> set[ObjectId]:
    repository = WorkspaceRepository(store)
    return {
        workspace
        for workspace in workspaces
        if await repository.get(organization.id, workspace) is None
    }


async def _write(writer: JsonLinesWriter, batch: list[Document], progress: Progress) -> int:
    if batch:
        await asyncio.to_thread(writer.write, batch)
        progress.advance(len(batch))
    return len(batch)


async def _check_file(
    target: AsyncCollection[Document],
    collection: str,
    path: Path,
    *,
    check_existing: bool,
    label: str | None,
) -> _FileCheck:
    reader = await asyncio.to_thread(JsonLinesReader, path, READ_OPTIONS, label)
    check = _FileCheck()
    clashes = 0
    example: object = None
    try:
        while batch := await asyncio.to_thread(reader.read_batch, BATCH_SIZE):
            check.total += len(batch)
            for _, document in batch:
                workspace = document.get("workspace_id")
                if isinstance(workspace, ObjectId):
                    check.workspaces[workspace] = check.workspaces.get(workspace, 0) + 1
            if not check_existing:
                continue
            ids = [document["_id"] for _, document in batch if "_id" in document]
            found = await target.count_documents({"_id": {"$in": ids}})
            if found and example is None:
                first = await target.find_one({"_id": {"$in": ids}}, {"_id": 1})
                example = first["_id"] if first else None
            clashes += found
    finally:
        await asyncio.to_thread(reader.close)
    if clashes:
        raise DocumentsAlreadyExist(collection, clashes, repr(example))
    return check


async def _replace(target: AsyncCollection[Document], documents: list[Document]) -> int:
    """Upsert each document by `_id`; returns how many replaced an existing one."""
    replaced = 0
    for start in range(0, len(documents), REPLACE_CONCURRENCY):
        chunk = documents[start : start + REPLACE_CONCURRENCY]
        results = await asyncio.gather(
            *(
                target.replace_one({"_id": document["_id"]}, document, upsert=True)
                if "_id" in document
                else target.insert_one(document)
                for document in chunk
            )
        )
        replaced += sum(getattr(result, "matched_count", 0) for result in results)
    return replaced
