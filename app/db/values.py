"""What MongoDB can hold of what JSON can say: the one check for every free JSON value.

JSON allows values BSON cannot encode: integers beyond 64 bits, NaN and the infinities
(Python's parser accepts `NaN`, `Infinity`, and `1e400` becomes infinity), strings with a lone
surrogate (`"\\udc00"` is valid JSON but no UTF-8), and NUL in an object's key (BSON keys are
C strings). Left alone, the driver fails on them, or worse, a value is stored that no answer
can carry back. Every free JSON value is checked here before it reaches a store: each request
body at the HTTP edge, tenant documents, organization metadata and the `where` of a listing.

Whether a key may start with `$` or hold `.` is each feature's rule, not BSON's; documents,
metadata and filters all refuse them.
"""

import math
import re
from dataclasses import dataclass
from typing import Any

from app.errors import InvalidInput

Location = tuple[str | int, ...]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ValueProblem:
    """Where in a value BSON would fail, and why, in words fit for the client."""

    location: Location
    message: str


def printable(text: str) -> str:
    """`text` with any lone surrogate spelled as `\\udc00`, so an answer can name it."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def value_problem(
    value: Any, where: Location = (), *, max_depth: int | None = None
) -> ValueProblem | None:
    """The first part of `value` MongoDB cannot hold, or None.

    Depth counts objects and arrays: a flat object is depth 1. The walk keeps its own stack,
    so a deeply nested value costs no recursion. Types other than JSON's are left to the
    driver (operators' imports carry dates and ids).
    """
    pending: list[tuple[Any, Location, int]] = [(value, where, 1)]
    while pending:
        item, at, depth = pending.pop()
        if isinstance(item, dict | list):
            if max_depth is not None and depth > max_depth:
                return ValueProblem(at, f"values nest at most {max_depth} levels")
            if isinstance(item, list):
                children = [((*at, index), child) for index, child in enumerate(item)]
            else:
                children = []
                for key, child in item.items():
                    problem = _key_problem(key, at)
                    if problem is not None:
                        return problem
                    children.append(((*at, key), child))
            pending.extend((child, path, depth + 1) for path, child in reversed(children))
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return ValueProblem(at, "integers must fit in 64 bits (-2^63 to 2^63-1)")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return ValueProblem(at, "numbers must be finite (no NaN or Infinity)")
        elif isinstance(item, str) and _SURROGATE.search(item):
            return ValueProblem(at, "text must be valid Unicode (no lone surrogates)")
    return None


def _key_problem(key: Any, at: Location) -> ValueProblem | None:
    if not isinstance(key, str):
        return ValueProblem(at, "object keys must be text")
    if _SURROGATE.search(key):
        return ValueProblem(
            (*at, printable(key)), "keys must be valid Unicode (no lone surrogates)"
        )
    if "\x00" in key:
        return ValueProblem((*at, key), "keys may not contain NUL")
    return None


def check_value(value: Any, where: Location, *, max_depth: int | None = None) -> None:
    """Raise `InvalidInput` naming the first part of `value` MongoDB cannot hold."""
    problem = value_problem(value, where, max_depth=max_depth)
    if problem is not None:
        raise InvalidInput(problem.location, problem.message)
