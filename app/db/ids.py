"""Parsing ids that arrive as text (tokens, paths) without trusting their shape."""

import re

from bson import ObjectId

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


def parse_object_id(value: object) -> ObjectId | None:
    """The ObjectId spelled by `value` (24 lower-case hex digits, as the API returns them)."""
    if isinstance(value, str) and _OBJECT_ID.fullmatch(value):
        return ObjectId(value)
    return None
