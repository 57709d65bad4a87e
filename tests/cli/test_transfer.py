"""`export` then `import`: the documents come back byte for byte, BSON types included."""

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bson import Binary, Decimal128, Int64, ObjectId, encode

from app.db.store import Store
from tests.cli.conftest import Operator
from tests.support import NAME, created_org, tenants

DOCUMENTS = 600  # more than one batch (500)


def varied(n: int) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "int32": n,
        "int64": Int64(n),
        "big": 2**40 + n,
        "price": Decimal128(f"{n}.10"),
        "ratio": n / 7,
        # BSON keeps milliseconds.
        "at": datetime(2024, 1, 2, 3, 4, 5, (n % 1000) * 1000, tzinfo=UTC),
        "nested": [[n, {"deep": [Int64(n), None, True]}], "Crème brûlée 北京"],
        "blob": b"\x00\xff" * (n % 5),
        "uuid": Binary(bytes(range(16)), 4),
        "custom": Binary(b"opaque", 0x80),
        "owner": ObjectId(),
    }


async def bson_of(store: Store, collection: str) -> list[bytes]:
    """The collection's documents in `_id` order, as the bytes MongoDB would store."""
    cursor = tenants(store)[collection].find({}).sort("_id", 1)
    return [encode(document) async for document in cursor]


def seeded(operator: Operator, count: int = DOCUMENTS) -> tuple[dict[str, Any], list[bytes]]:
    organization = operator.run(created_org(operator.client))
    collection = tenants(operator.store)[organization["tenant_collection"]]
    operator.run(collection.insert_many([varied(n) for n in range(count)]))
    return organization, operator.run(bson_of(operator.store, organization["tenant_collection"]))


@pytest.mark.parametrize(
    ("file_name", "options", "compressed"),
    [
        ("tenant.jsonl", [], False),
        ("tenant.jsonl", ["--gzip"], True),
        ("tenant.jsonl.gz", [], True),
    ],
)
def test_round_trip_is_exact(
    operator: Operator, tmp_path: Path, file_name: str, options: list[str], compressed: bool
) -> None:
    organization, before = seeded(operator)
    path = tmp_path / file_name

    exported = operator.cli("export", NAME, str(path), *options)
    assert exported.exit_code == 0, exported.output
    assert f"Exported {DOCUMENTS} document(s)" in exported.stderr  # status
    raw = path.read_bytes()
    assert raw.startswith(b"\x1f\x8b") is compressed
    text = (gzip.decompress(raw) if compressed else raw).decode()
    lines = text.splitlines()
    assert len(lines) == DOCUMENTS
    first = json.loads(lines[0])
    assert first["int32"] == {"$numberInt": "0"}
    assert first["int64"] == {"$numberLong": "0"}
    assert first["uuid"]["$binary"]["subType"] == "04"
    assert list(tmp_path.iterdir()) == [path]  # no partial file left behind

    collection = organization["tenant_collection"]
    operator.run(tenants(operator.store).drop_collection(collection))
    imported = operator.cli("import", organization["id"], str(path))
    assert imported.exit_code == 0, imported.output
    assert f"Imported {DOCUMENTS} document(s) into {collection}" in imported.stderr
    assert operator.run(bson_of(operator.store, collection)) == before


def test_existing_ids_import_nothing_unless_replace(operator: Operator, tmp_path: Path) -> None:
    # Few documents: the in-memory store scans the collection for every replacement.
    organization, before = seeded(operator, 120)
    path = tmp_path / "tenant.jsonl"
    assert operator.cli("export", NAME, str(path)).exit_code == 0
    collection = tenants(operator.store)[organization["tenant_collection"]]
    first = operator.run(collection.find_one({}, sort=[("_id", 1)]))
    assert first is not None
    operator.run(collection.update_one({"_id": first["_id"]}, {"$set": {"int32": "changed"}}))
    operator.run(collection.delete_many({"int32": {"$gte": 100}}))

    refused = operator.cli("import", NAME, str(path))
    assert refused.exit_code == 1
    assert "100 document(s) of the file already exist" in refused.stderr
    assert "nothing was imported" in refused.stderr
    assert operator.run(collection.count_documents({})) == 100

    replaced = operator.cli("import", NAME, str(path), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "Imported 120 document(s)" in replaced.stderr
    assert "100 replacing existing ones" in replaced.stderr
    assert operator.run(bson_of(operator.store, organization["tenant_collection"])) == before


def test_a_damaged_file_imports_nothing(operator: Operator, tmp_path: Path) -> None:
    organization = operator.run(created_org(operator.client))
    path = tmp_path / "broken.jsonl"
    path.write_text('{"_id": {"$oid": "6650c0d2f1a4b8e9c3d2a1af"}}\n\n{"_id": \n')
    result = operator.cli("import", NAME, str(path))
    assert result.exit_code == 1
    assert "broken.jsonl, line 3: not Extended JSON" in result.stderr
    count = tenants(operator.store)[organization["tenant_collection"]].count_documents({})
    assert operator.run(count) == 0


def test_unknown_or_busy_organizations_are_refused(operator: Operator, tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    unknown = operator.cli("export", "Nobody", str(path))
    assert unknown.exit_code == 1
    assert "No organization has the name or id 'Nobody'" in unknown.stderr
    assert not path.exists()

    organization = operator.run(created_org(operator.client))
    operator.run(
        operator.store.master["organizations"].update_one(
            {"_id": ObjectId(organization["id"])}, {"$set": {"state": "renaming"}}
        )
    )
    busy = operator.cli("export", NAME, str(path))
    assert busy.exit_code == 1
    assert "is in state 'renaming'" in busy.stderr
