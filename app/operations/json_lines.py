"""JSON Lines files of Extended JSON documents, plain or gzipped.

Blocking file access: the transfer code calls these from worker threads.
"""

import gzip
import secrets
from pathlib import Path
from typing import IO

from bson import json_util
from bson.errors import BSONError
from bson.json_util import JSONOptions

from app.db.store import Document
from app.operations.errors import FileUnusable, InvalidImportFile

_GZIP_MAGIC = b"\x1f\x8b"


class JsonLinesWriter:
    def __init__(self, path: Path, compress: bool, options: JSONOptions) -> None:
        self._path = path
        self._options = options
        # The handle lives until commit() or abort(): a context manager cannot span the batches.
        # Written beside the target and moved into place once complete, so that a failed
        # export never leaves a truncated file under the name asked for.
        self._partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        try:
            self._handle: IO[str] = (
                gzip.open(self._partial, "wt", encoding="utf-8", newline="\n")  # noqa: SIM115
                if compress
                else self._partial.open("w", encoding="utf-8", newline="\n")
            )
        except OSError as exc:
            raise FileUnusable(str(path), f"cannot be written ({exc.strerror})") from None

    def write(self, documents: list[Document]) -> None:
        self._handle.write(
            "".join(
                json_util.dumps(document, json_options=self._options, ensure_ascii=False) + "\n"
                for document in documents
            )
        )

    def commit(self) -> None:
        self._handle.close()
        self._partial.replace(self._path)

    def abort(self) -> None:
        self._handle.close()
        self._partial.unlink(missing_ok=True)


class JsonLinesReader:
    def __init__(self, path: Path, options: JSONOptions) -> None:
        self._path = path
        self._options = options
        self._line = 0
        try:
            with path.open("rb") as probe:
                # Recognized by content, not name: a renamed file still reads.
                self.compressed = probe.read(2) == _GZIP_MAGIC
            self._handle: IO[str] = (
                gzip.open(path, "rt", encoding="utf-8")  # noqa: SIM115
                if self.compressed
                else path.open(encoding="utf-8")
            )
        except OSError as exc:
            raise FileUnusable(str(path), f"cannot be read ({exc.strerror})") from None

    def read_batch(self, size: int) -> list[tuple[int, Document]]:
        """Up to `size` documents with their line numbers; empty at the end of the file."""
        batch: list[tuple[int, Document]] = []
        while len(batch) < size:
            try:
                line = self._handle.readline()
            except (OSError, EOFError, ValueError) as exc:
                raise InvalidImportFile(self._where(), f"unreadable ({exc})") from None
            if not line:
                break
            self._line += 1
            if line.strip():
                batch.append((self._line, self._decode(line)))
        return batch

    def close(self) -> None:
        self._handle.close()

    def _decode(self, line: str) -> Document:
        try:
            document = json_util.loads(line, json_options=self._options)
        except (ValueError, TypeError, KeyError, BSONError) as exc:
            raise InvalidImportFile(self._where(), f"not Extended JSON ({exc})") from None
        if not isinstance(document, dict):
            raise InvalidImportFile(self._where(), "not a JSON object")
        return document

    def _where(self) -> str:
        return f"{self._path}, line {self._line}"
