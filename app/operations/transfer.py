"""Tenant documents out to a file and back: JSON Lines in MongoDB Extended JSON.

Canonical Extended JSON keeps every BSON type (`$numberInt` vs `$numberLong`, `$date`,
`$numberDecimal`, `$binary` with its subtype, `$oid`), so an import writes back exactly the
documents exported, `_id`s included. The files are what `mongoexport --jsonFormat canonical`
writes, one document per line, optionally gzipped.

Encoding, decoding and file access run in worker threads so that the event loop stays free.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Protocol

from bson.binary import UuidRepresentation
from bson.codec_options import DatetimeConversion
from bson.json_util import CANONICAL_JSON_OPTIONS
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from app.config import Settings
from app.db.store import Document, Store
from app.operations.errors import DocumentsAlreadyExist, ImportInterrupted
from app.operations.json_lines import JsonLinesReader, JsonLinesWriter
from app.operations.organizations import resolve_settled_organization

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
    def start(self, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


@dataclass(frozen=True, slots=True)
class TransferResult:
    organization: str
    collection: str
    documents: int
    path: Path
    compressed: bool = False
    replaced: int = 0


async def export_tenant(
    store: Store,
    settings: Settings,
    reference: str,
    path: Path,
    *,
    compress: bool,
    progress: Progress,
) -> TransferResult:
    """Write the organization's tenant documents to `path`, in `_id` order.

    The file appears only once complete: a failed export leaves no half-written file.
    """
    organization = await resolve_settled_organization(store, settings, reference)
    collection = store.collection(organization.namespace)
    progress.start(await collection.estimated_document_count())  # for the progress bar only
    writer = await asyncio.to_thread(JsonLinesWriter, path, compress, WRITE_OPTIONS)
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
) -> TransferResult:
    """Load a file written by `export_tenant` into the organization's tenant collection.

    The whole file is read and checked first (every line must decode; without `replace`, no
    `_id` may exist already), so a bad file or a clash imports nothing.
    """
    organization = await resolve_settled_organization(store, settings, reference)
    name = organization.tenant_collection
    target = store.collection(organization.namespace)
    total = await _check_file(target, name, path, check_existing=not replace)
    progress.start(total)
    reader = await asyncio.to_thread(JsonLinesReader, path, READ_OPTIONS)
    written = replaced = 0
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
        written += int(exc.details.get("nInserted", 0))
        raise ImportInterrupted(name, written, "a document was refused") from None
    except DuplicateKeyError:
        raise ImportInterrupted(name, written, "an _id already exists") from None
    finally:
        await asyncio.to_thread(reader.close)
    compressed = reader.compressed
    return TransferResult(organization.name, name, written, path, compressed, replaced)


async def _write(writer: JsonLinesWriter, batch: list[Document], progress: Progress) -> int:
    if batch:
        await asyncio.to_thread(writer.write, batch)
        progress.advance(len(batch))
    return len(batch)


async def _check_file(
    target: AsyncCollection[Document], collection: str, path: Path, *, check_existing: bool
) -> int:
    reader = await asyncio.to_thread(JsonLinesReader, path, READ_OPTIONS)
    total = clashes = 0
    example: object = None
    try:
        while batch := await asyncio.to_thread(reader.read_batch, BATCH_SIZE):
            total += len(batch)
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
    return total


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
