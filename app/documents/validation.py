"""What a tenant document may contain.

Documents are stored as sent, so their field names are checked all the way down: a name
that starts with `$`, contains `.` or NUL could be read by MongoDB as an operator or a path,
and is refused. The server's own fields cannot be set by clients. Size and depth are bounded.
Values BSON cannot hold are refused by `app.db.values`, as everywhere free JSON comes in.
"""

from dataclasses import dataclass
from typing import Any

import bson

from app.db.values import check_value
from app.errors import InvalidInput

SERVER_FIELDS = frozenset({"_id", "id", "workspace_id", "created_at", "updated_at", "version"})
MAX_FIELD_NAME = 256


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_bytes: int
    max_depth: int
    max_batch: int


def check_document(document: Any, limits: DocumentLimits, where: tuple[str | int, ...]) -> None:
    if not isinstance(document, dict):
        raise InvalidInput(where, "a document is a JSON object")
    check_value(document, where)
    for name in document:
        if name in SERVER_FIELDS:
            raise InvalidInput((*where, name), f"'{name}' is set by the server")
    _check_value(document, limits.max_depth, 1, where)
    size = len(bson.encode(document))
    if size > limits.max_bytes:
        raise InvalidInput(where, f"the document is {size} bytes; at most {limits.max_bytes}")


def check_patch(patch: Any, limits: DocumentLimits, where: tuple[str | int, ...]) -> None:
    """What a merge patch can be told from alone, before the document it changes is read: its
    names and values. The merged document is checked whole once it is known."""
    if not isinstance(patch, dict):
        raise InvalidInput(where, "a merge patch is a JSON object")
    check_value(patch, where)
    _check_value(patch, limits.max_depth, 1, where)


def check_field_name(name: str, where: tuple[str | int, ...]) -> None:
    if not name or len(name) > MAX_FIELD_NAME:
        raise InvalidInput(where, f"field names are 1 to {MAX_FIELD_NAME} characters")
    if name.startswith("$") or "." in name or "\x00" in name:
        raise InvalidInput(where, "field names may not start with '$' or contain '.' or NUL")


def _check_value(value: Any, max_depth: int, depth: int, where: tuple[str | int, ...]) -> None:
    if isinstance(value, dict | list) and depth > max_depth:
        raise InvalidInput(where, f"documents nest at most {max_depth} levels")
    if isinstance(value, dict):
        for name, item in value.items():
            check_field_name(name, (*where, name))
            _check_value(item, max_depth, depth + 1, (*where, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, max_depth, depth + 1, (*where, index))


def equality_filter(raw: Any) -> dict[str, Any]:
    """`where` for listing: top-level field names mapped to plain JSON values (no objects or
    arrays, which could carry operators)."""
    if not isinstance(raw, dict):
        raise InvalidInput(("query", "where"), "where must be a JSON object of field: value")
    check_value(raw, ("query", "where"))
    for name, value in raw.items():
        check_field_name(name, ("query", "where", name))
        if isinstance(value, dict | list):
            raise InvalidInput(("query", "where", name), "only plain values can be matched")
    return dict(raw)
