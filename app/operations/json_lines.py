"""JSON Lines files of Extended JSON documents, plain or gzipped.

Blocking file access: the transfer code calls these from worker threads.
"""

import gzip
import io
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
    """Writes to `destination`: a file, or a binary stream (standard output) left open."""

    def __init__(self, destination: Path | IO[bytes], compress: bool, options: JSONOptions) -> None:
        self._options = options
        self._partial: Path | None = None
        self._path: Path | None = None
        self._wrapper: io.TextIOWrapper | None = None
        if not isinstance(destination, Path):
            self._gzip = gzip.GzipFile(fileobj=destination, mode="wb") if compress else None
            self._wrapper = io.TextIOWrapper(
                self._gzip or destination,
                encoding="utf-8",
                newline="\n",
            )
            self._handle: IO[str] = self._wrapper
            self._stream: IO[bytes] | None = destination
            return
        self._gzip = None
        self._stream = None
        self._path = destination
        # The handle lives until commit() or abort(): a context manager cannot span the batches.
        # Written beside the target and moved into place once complete, so that a failed
        # export never leaves a truncated file under the name asked for.
        self._partial = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.partial")
        try:
            self._handle = (
                gzip.open(self._partial, "wt", encoding="utf-8", newline="\n")  # noqa: SIM115
                if compress
                else self._partial.open("w", encoding="utf-8", newline="\n")
            )
        except OSError as exc:
            raise FileUnusable(str(destination), f"cannot be written ({exc.strerror})") from None

    def write(self, documents: list[Document]) -> None:
        self._handle.write(
            "".join(
                json_util.dumps(document, json_options=self._options, ensure_ascii=False) + "\n"
                for document in documents
            )
        )

    def commit(self) -> None:
        if self._stream is not None:
            self._release_stream()
            return
        self._handle.close()
        if self._partial is not None and self._path is not None:
            self._partial.replace(self._path)

    def abort(self) -> None:
        if self._stream is not None:
            # What went out cannot be taken back; the reader sees the command fail.
            self._release_stream()
            return
        self._handle.close()
        if self._partial is not None:
            self._partial.unlink(missing_ok=True)

    def _release_stream(self) -> None:
        """Flush everything (the gzip trailer included) but leave the stream itself open."""
        if self._wrapper is not None:
            self._wrapper.flush()
            self._wrapper.detach()
        if self._gzip is not None:
            self._gzip.close()  # writes the trailer; the stream under it stays open
        if self._stream is not None:
            self._stream.flush()


class JsonLinesReader:
    def __init__(self, path: Path, options: JSONOptions, label: str | None = None) -> None:
        # How messages name the input: the path, or what it stands for (standard input).
        self._label = label or str(path)
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
        return f"{self._label}, line {self._line}"
