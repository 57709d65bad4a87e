"""`export_tenant` and `import_tenant`: what they return, the files they write and the
documents they leave in the tenant collection."""

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bson import Binary, Decimal128, Int64, ObjectId
from httpx import AsyncClient

from app.config import Settings
from app.db.store import Document, Store
from app.operations.errors import DocumentsAlreadyExist, ImportInterrupted, InvalidImportFile
from app.operations.transfer import TransferResult, export_tenant, import_tenant
from app.registry.errors import OperationInProgress
from tests.operations.registry_edits import edit_entry
from tests.support import NAME, created_org, tenants

COLLECTION = "tenant_tech_innovations_corp"


class Recorded:
    """A `Progress` that remembers what it was told."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.phases: list[str] = []
        self.advanced: list[int] = []

    def phase(self, label: str, total: int | None = None) -> None:
        self.phases.append(label)
        self.total = total

    def advance(self, count: int) -> None:
        self.advanced.append(count)


def files_in(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


def varied(n: int) -> Document:
    return {
        "_id": ObjectId(),
        "int32": n,
        "int64": Int64(n),
        "price": Decimal128(f"{n}.10"),
        "at": datetime(2024, 1, 2, 3, 4, 5, n * 1000, tzinfo=UTC),
        "nested": [{"deep": [Int64(n), None, True]}, "Crème brûlée 北京"],
        "blob": b"\x00\xff" * (n % 3),
        "uuid": Binary(bytes(range(16)), 4),
    }


async def seeded(client: AsyncClient, store: Store, count: int = 20) -> dict[str, Any]:
    organization = await created_org(client)
    await tenants(store)[COLLECTION].insert_many([varied(n) for n in range(count)])
    return organization


async def contents(store: Store) -> list[Document]:
    return await tenants(store)[COLLECTION].find({}).sort("_id", 1).to_list()


@pytest.mark.parametrize("compress", [False, True])
async def test_export_then_import_round_trips_every_document(
    client: AsyncClient, store: Store, settings: Settings, tmp_path: Path, compress: bool
) -> None:
    await seeded(client, store)
    before = await contents(store)
    path = tmp_path / "tenant.jsonl"
    progress = Recorded()

    exported = await export_tenant(
        store, settings, NAME, path, compress=compress, progress=progress
    )

    assert exported == TransferResult(NAME, COLLECTION, 20, path, compress)
    assert (progress.total, sum(progress.advanced)) == (20, 20)
    assert path.read_bytes().startswith(b"\x1f\x8b") is compress
    assert files_in(tmp_path) == [path]  # no partial file beside it
    await tenants(store)[COLLECTION].delete_many({})

    imported = await import_tenant(store, settings, NAME, path, replace=False, progress=Recorded())

    assert imported == TransferResult(NAME, COLLECTION, 20, path, compress, replaced=0)
    assert await contents(store) == before


async def test_an_export_is_in_id_order_one_document_a_line(
    client: AsyncClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    await created_org(client)
    ids = [ObjectId() for _ in range(5)]
    await tenants(store)[COLLECTION].insert_many([{"_id": i} for i in reversed(ids)])
    path = tmp_path / "tenant.jsonl.gz"

    await export_tenant(store, settings, NAME, path, compress=True, progress=Recorded())

    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert lines == [f'{{"_id": {{"$oid": "{i}"}}}}' for i in sorted(ids)]


async def test_an_empty_collection_exports_an_empty_file(
    client: AsyncClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    organization = await created_org(client)
    path = tmp_path / "empty.jsonl"

    result = await export_tenant(
        store, settings, organization["id"], path, compress=False, progress=Recorded()
    )

    assert result.documents == 0
    assert path.read_text() == ""


async def test_a_failed_export_leaves_no_file(
    client: AsyncClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    await seeded(client, store)

    class Failing(Recorded):
        def advance(self, count: int) -> None:
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        await export_tenant(
            store, settings, NAME, tmp_path / "t.jsonl", compress=False, progress=Failing()
        )

    assert files_in(tmp_path) == []


async def test_an_import_over_existing_ids_imports_nothing(
    client: AsyncClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    await seeded(client, store)
    path = tmp_path / "tenant.jsonl"
    await export_tenant(store, settings, NAME, path, compress=False, progress=Recorded())
    await tenants(store)[COLLECTION].delete_many({"int32": {"$gte": 5}})
    remaining = await contents(store)

    with pytest.raises(DocumentsAlreadyExist) as refused:
        await import_tenant(store, settings, NAME, path, replace=False, progress=Recorded())

    assert "5 document(s) of the file already exist" in refused.value.message
    assert await contents(store) == remaining


async def test_an_import_with_replace_overwrites_and_counts_what_it_replaced(
    client: AsyncClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    await seeded(client, store)
    before = await contents(store)
    path = tmp_path / "tenant.jsonl"
    await export_tenant(store, settings, NAME, path, compress=False, progress=Recorded())
    collection = tenants(store)[COLLECTION]
    await collection.update_many({}, {"$set": {"int32": "changed"}})
    await collection.delete_many({"int64": {"$gte": 15}})

    result = await import_tenant(store, settings, NAME, path, replace=True, progress=Recorded())

    assert (result.documents, result.replaced) == (20, 15)
    assert await contents(store) == before


async def test_a_damaged_file_imports_nothing(
    client: AsyncClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    await created_org(client)
    path = tmp_path / "broken.jsonl"
    path.write_text('{"_id": {"$oid": "6650c0d2f1a4b8e9c3d2a1af"}}\n\n{"_id": \n')

    with pytest.raises(InvalidImportFile) as refused:
        await import_tenant(store, settings, NAME, path, replace=True, progress=Recorded())

    assert "broken.jsonl, line 3: not Extended JSON" in refused.value.message
    assert await contents(store) == []


async def test_an_organization_in_an_operation_is_neither_exported_nor_imported(
    client: AsyncClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    organization = await seeded(client, store)
    path = tmp_path / "tenant.jsonl"
    await export_tenant(store, settings, NAME, path, compress=False, progress=Recorded())
    await edit_entry(store, organization["id"], {"$set": {"state": "renaming"}})

    with pytest.raises(OperationInProgress):
        await export_tenant(
            store, settings, NAME, tmp_path / "other.jsonl", compress=False, progress=Recorded()
        )
    with pytest.raises(OperationInProgress):
        await import_tenant(store, settings, NAME, path, replace=True, progress=Recorded())

    assert files_in(tmp_path) == [path]


async def test_a_file_repeating_an_id_stops_and_says_how_far_it_got(
    client: AsyncClient, store: Store, settings: Settings, tmp_path: Path
) -> None:
    """The pre-check looks for `_id`s already in the collection, not for repeats in the file:
    the insert stops at the repeat and reports the documents written before it."""
    await created_org(client)
    path = tmp_path / "repeats.jsonl"
    path.write_text('{"_id": 1, "a": 1}\n{"_id": 2}\n{"_id": 1, "a": 2}\n{"_id": 3}\n')

    with pytest.raises(ImportInterrupted) as stopped:
        await import_tenant(store, settings, NAME, path, replace=False, progress=Recorded())

    assert "stopped after 2 document(s)" in stopped.value.message
    assert await contents(store) == [{"_id": 1, "a": 1}, {"_id": 2}]
