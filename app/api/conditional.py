"""Conditional requests (RFC 9110 section 13) for the versioned API.

Every successful `GET` under `/api/v1` carries an `ETag`: the one the handler set (a tenant
document's version), or a strong tag derived from the body's bytes. `If-None-Match` that
matches it (weak comparison, `*` included) answers `304 Not Modified` with no body.

`If-Match` on a change (`PUT`, `PATCH`, `DELETE`) is compared, by strong comparison,
with the ETag a `GET` of the same path would answer just before the change runs; when none
matches, the change is refused with `412 precondition_failed` and nothing happens. A path no
`GET` answers (2xx) has no current representation to compare with, and the header is ignored
there (RFC 9110 13.2.1). Tenant documents evaluate `If-Match` themselves, atomically, against
their stored version; for every other resource the comparison and the change are two steps,
so it guards against changes made since the client's read, not against one racing it.
"""

import hashlib
import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import scope_error_response
from app.errors import PreconditionFailed

_VERSIONED = "/api/v1/"
_SELF_CHECKED = re.compile(r"^/api/v1/organizations/[^/]+/documents(/|$)")
_CHANGES = frozenset({"PUT", "PATCH", "DELETE"})
# Headers a 304 keeps (RFC 9110 15.4.5), with ours that every answer has.
_KEPT_ON_304 = frozenset({b"etag", b"cache-control", b"vary", b"x-request-id", b"date"})


def body_tag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def entity_tags(value: str) -> list[str]:
    """The entity tags of an `If-Match` / `If-None-Match` list, `*` as itself."""
    return [tag.strip() for tag in value.split(",") if tag.strip()]


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def none_match(header: str, current: str) -> bool:
    """Whether `If-None-Match: header` fails for `current`, i.e. the client has it."""
    tags = entity_tags(header)
    return "*" in tags or _opaque(current) in {_opaque(tag) for tag in tags}


def any_match(header: str, current: str) -> bool:
    """Whether `If-Match: header` holds for `current` (strong comparison)."""
    tags = entity_tags(header)
    if "*" in tags:
        return True
    return not current.startswith("W/") and current in tags


class ConditionalRequestsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(_VERSIONED):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "GET":
            await self._read(scope, receive, send, headers.get("if-none-match"))
            return
        if_match = headers.get("if-match")
        if if_match is not None and scope["method"] in _CHANGES and not _SELF_CHECKED.match(path):
            current = await self._current_tag(scope)
            if current is not None and not any_match(if_match, current):
                error = PreconditionFailed()
                await scope_error_response(error, scope)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _read(self, scope: Scope, receive: Receive, send: Send, if_none: str | None) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if message["status"] != 200:
                    await send(message)
                return
            if start is None or start["status"] != 200:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await _send_tagged(start, b"".join(chunks), if_none, send)

        await self.app(scope, receive, capture)

    async def _current_tag(self, scope: Scope) -> str | None:
        """The ETag a GET of this path answers now; None when it answers no 2xx (no GET
        there, or the change itself would fail: the change then answers for itself)."""
        status = 0
        tag: str | None = None
        chunks: list[bytes] = []
        probe: Scope = {
            **scope,
            "method": "GET",
            "query_string": b"",
            "headers": [
                (name, value)
                for name, value in scope["headers"]
                if name not in (b"if-match", b"if-none-match", b"content-length", b"content-type")
            ],
        }

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def collect(message: Message) -> None:
            nonlocal status, tag
            if message["type"] == "http.response.start":
                status = message["status"]
                tag = Headers(raw=message.get("headers", [])).get("etag")
            else:
                chunks.append(message.get("body", b""))

        await self.app(probe, no_body, collect)
        if not 200 <= status < 300:
            return None
        return tag or body_tag(b"".join(chunks))


async def _send_tagged(start: Message, body: bytes, if_none: str | None, send: Send) -> None:
    headers = MutableHeaders(raw=list(start.get("headers", [])))
    tag = headers.get("etag") or body_tag(body)
    headers["etag"] = tag
    if if_none is not None and none_match(if_none, tag):
        kept = [(n, v) for n, v in headers.raw if n.lower() in _KEPT_ON_304]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await send({**start, "headers": headers.raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})
