"""What every answer of the API promises, checked on every response the suite's client sees.

The client of `tests/conftest.py` runs `check_conventions` on each response, so a handler that
answers an error code its operation does not document, a 201 without `Location`, or a read
without `ETag`, or a time in another format than RFC 3339 UTC fails whichever test meets it.
"""

import re
from typing import Any

from httpx import Response

from app.api.responses import documented_codes

# Codes any operation may answer, documented once for the whole API.
EVERYWHERE = frozenset(
    {"internal_error", "database_unavailable", "request_too_large", "method_not_allowed"}
)


LOOKS_LIKE_A_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def times_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if LOOKS_LIKE_A_TIME.match(value) else []
    if isinstance(value, dict):
        return [time for item in value.values() for time in times_in(item)]
    if isinstance(value, list):
        return [time for item in value for time in times_in(item)]
    return []


class Conventions:
    def __init__(self, schema: dict[str, Any]) -> None:
        self._routes: list[tuple[str, re.Pattern[str], dict[str, Any]]] = []
        for path, item in schema["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$")
            for method, operation in item.items():
                self._routes.append((method.upper(), pattern, operation))
        # Literal segments win over parameters, as the router decides.
        self._routes.sort(key=lambda route: route[1].pattern.count("[^/]+"))

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        for route_method, pattern, operation in self._routes:
            if route_method == method and pattern.match(path):
                return operation
        return None

    async def check(self, response: Response) -> None:
        request = response.request
        path = request.url.path
        operation = self.operation(request.method, path)
        if operation is None:
            return
        await response.aread()
        status = response.status_code
        versioned = path.startswith("/api/v1/")
        if status == 201:
            assert "location" in response.headers, f"201 without Location: {request.method} {path}"
        if versioned and request.method == "GET" and status == 200:
            assert "etag" in response.headers, f"read without ETag: {path}"
        if not versioned or "json" not in response.headers.get("content-type", ""):
            return
        body = response.json()
        for time in times_in(body):
            assert RFC3339_UTC.match(time), f"{request.method} {path}: time {time!r}"
        if status < 400:
            return
        code = body.get("code")
        assert isinstance(code, str), f"{request.method} {path} {status}: no code in {body}"
        if code in EVERYWHERE:
            return
        documented = documented_codes(operation, status)
        assert code in documented, (
            f"{request.method} {path} answered {status} {code!r}, "
            f"documented there: {sorted(documented)}"
        )
