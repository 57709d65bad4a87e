"""The one check of what MongoDB can hold, on values as Python's JSON parser gives them."""

import json
from typing import Any

import bson
import pytest

from app.db.values import INT64_MAX, INT64_MIN, printable, value_problem


@pytest.mark.parametrize(
    ("raw", "location"),
    [
        ('{"a": 9223372036854775808}', ("a",)),
        ('{"a": [-9223372036854775809]}', ("a", 0)),
        ('{"a": {"b": NaN}}', ("a", "b")),
        ('{"a": Infinity}', ("a",)),
        ('{"a": -Infinity}', ("a",)),
        ('{"a": 1e400}', ("a",)),
        ('{"a": "x\\udc00"}', ("a",)),
        ('{"a": {"\\ud800": 1}}', ("a", "\\ud800")),
        ('{"a\\u0000b": 1}', ("a\x00b",)),
    ],
)
def test_what_bson_cannot_hold_is_named(raw: str, location: tuple[str | int, ...]) -> None:
    problem = value_problem(json.loads(raw))

    assert problem is not None
    assert problem.location == location


@pytest.mark.parametrize(
    "value",
    [
        {"a": INT64_MAX, "b": INT64_MIN, "c": 1.5e308, "d": "\x00 in a value", "e": "💥"},
        {"$ne": None, "a.b": [None, True, {"": []}]},  # features refuse these; BSON does not
    ],
)
def test_what_bson_holds_passes_and_encodes(value: dict[str, Any]) -> None:
    assert value_problem(value) is None
    bson.encode(value)


def test_depth_is_bounded_when_asked_without_recursion() -> None:
    deep: Any = 1
    for _ in range(50_000):
        deep = [deep]

    assert value_problem(deep) is None
    problem = value_problem({"a": deep}, ("body",), max_depth=3)
    assert problem is not None
    assert problem.location == ("body", "a", 0, 0)


def test_a_lone_surrogate_is_spelled_out_for_answers() -> None:
    assert printable("a\udc00") == "a\\udc00"
    assert printable("ümlaut") == "ümlaut"
