"""`JsonLinesWriter` and `JsonLinesReader`: plain or gzipped files of Extended JSON."""

import gzip
from pathlib import Path

import pytest
from bson import Decimal128, Int64, ObjectId

from app.db.store import Document
from app.operations.errors import FileUnusable, InvalidImportFile
from app.operations.json_lines import JsonLinesReader, JsonLinesWriter
from app.operations.transfer import READ_OPTIONS, WRITE_OPTIONS

DOCUMENTS: list[Document] = [
    {"_id": ObjectId(), "n": n, "big": Int64(n), "price": Decimal128(f"{n}.5"), "name": "Zoë"}
    for n in range(7)
]


def written(path: Path, compress: bool, *batches: list[Document]) -> Path:
    writer = JsonLinesWriter(path, compress, WRITE_OPTIONS)
    for batch in batches:
        writer.write(batch)
    writer.commit()
    return path


def read_all(path: Path, size: int = 100) -> tuple[list[tuple[int, Document]], bool]:
    reader = JsonLinesReader(path, READ_OPTIONS)
    found: list[tuple[int, Document]] = []
    try:
        while batch := reader.read_batch(size):
            found += batch
    finally:
        reader.close()
    return found, reader.compressed


@pytest.mark.parametrize("compress", [False, True])
def test_what_is_written_reads_back_with_line_numbers(tmp_path: Path, compress: bool) -> None:
    path = written(tmp_path / "out.jsonl", compress, DOCUMENTS[:3], DOCUMENTS[3:], [])

    found, compressed = read_all(path)

    assert compressed is compress
    assert found == list(enumerate(DOCUMENTS, start=1))
    assert found[0][1]["big"] == Int64(0)
    assert type(found[0][1]["big"]) is Int64


def test_a_gzipped_file_is_recognized_by_content_not_name(tmp_path: Path) -> None:
    path = written(tmp_path / "looks-plain.jsonl", True, DOCUMENTS)

    found, compressed = read_all(path)

    assert compressed
    assert [document for _, document in found] == DOCUMENTS
    assert gzip.decompress(path.read_bytes()).decode().count("\n") == len(DOCUMENTS)


def test_batches_hold_at_most_the_size_asked_for(tmp_path: Path) -> None:
    path = written(tmp_path / "out.jsonl", False, DOCUMENTS)
    reader = JsonLinesReader(path, READ_OPTIONS)

    sizes = []
    while batch := reader.read_batch(3):
        sizes.append(len(batch))
    reader.close()

    assert sizes == [3, 3, 1]


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = tmp_path / "gappy.jsonl"
    path.write_text('{"a": 1}\n\n   \n{"a": 2}\n')

    found, _ = read_all(path)

    assert found == [(1, {"a": 1}), (4, {"a": 2})]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"a": 1}\n{"a": \n', "line 2: not Extended JSON"),
        ('{"a": 1}\n[1, 2]\n', "line 2: not a JSON object"),
        ('"just a string"\n', "line 1: not a JSON object"),
        ('{"_id": {"$oid": "not-hex"}}\n', "line 1: not Extended JSON"),
        ('{"n": {"$numberLong": "twelve"}}\n', "line 1: not Extended JSON"),
    ],
)
def test_a_malformed_line_is_refused_with_its_number(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)

    with pytest.raises(InvalidImportFile) as refused:
        read_all(path)

    assert f"bad.jsonl, {problem}" in refused.value.message
    assert refused.value.message.endswith("nothing was imported")


def test_a_truncated_gzip_file_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path / "cut.jsonl.gz", True, DOCUMENTS * 20)
    path.write_bytes(path.read_bytes()[:-40])

    with pytest.raises(InvalidImportFile) as refused:
        read_all(path)

    assert "unreadable" in refused.value.message


def test_a_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(FileUnusable) as refused:
        JsonLinesReader(tmp_path / "absent.jsonl", READ_OPTIONS)

    assert "cannot be read" in refused.value.message


def test_a_file_in_a_missing_directory_cannot_be_written(tmp_path: Path) -> None:
    with pytest.raises(FileUnusable) as refused:
        JsonLinesWriter(tmp_path / "no" / "such" / "out.jsonl", False, WRITE_OPTIONS)

    assert "cannot be written" in refused.value.message


@pytest.mark.parametrize("compress", [False, True])
def test_the_file_appears_only_on_commit(tmp_path: Path, compress: bool) -> None:
    path = tmp_path / "out.jsonl"
    writer = JsonLinesWriter(path, compress, WRITE_OPTIONS)
    writer.write(DOCUMENTS)

    assert not path.exists()
    writer.commit()
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_an_aborted_write_leaves_nothing_and_keeps_an_older_file(tmp_path: Path) -> None:
    path = written(tmp_path / "out.jsonl", False, DOCUMENTS[:1])
    writer = JsonLinesWriter(path, False, WRITE_OPTIONS)
    writer.write(DOCUMENTS)

    writer.abort()

    assert list(tmp_path.iterdir()) == [path]
    found, _ = read_all(path)
    assert found == [(1, DOCUMENTS[0])]
