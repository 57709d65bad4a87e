"""`Idempotency-Key` on every POST of the versioned API and on sign-up, with Stripe's semantics.

A request that sends `Idempotency-Key: <key>` runs once. The same caller sending the same key
with the same request (method, path with query, body) within 24 hours gets the first answer
again, with `Idempotent-Replayed: true`: the same status, body and headers (all the
application set, `Content-Type`, `Location`, `ETag`, `Retry-After`...; `X-Request-ID` stays
the new request's own). The same key with another request is refused with 422
(`idempotency_key_reused`); a request arriving while the first with its key still runs with
409 (`idempotency_request_in_progress`, `Retry-After`); a malformed key with 400
(`invalid_idempotency_key`). Requests without the header pass straight through.

Which answers are saved, following "results are only saved if an API endpoint started
executing": every answer of a request that ran and decided, which is 2xx, 3xx and 4xx, except

- 400: the input was refused before anything ran (validation), so a corrected request may
  reuse the key;
- 401: no caller was established; 408 and 429: the request was not served, try again;
- 409 and 423: a state that passes (another change in progress, a concurrent change, a
  suspension): the retry must see the state it meets then;
- 5xx: the failure may be transient (a database that was away): the retry must run again.

For those the claim is deleted, and a retry with the key runs as if new. So is it when the
application raises or is stopped (the client went away) before its answer is complete. Once
the answer is complete it is saved before its last bytes are sent, so a client that loses the
connection then and retries gets the replay: that retry is what the key is for.

Keys are scoped to the caller (a hash of the `Authorization` header, or "anonymous"), and the
saved answer is sealed (see `app.idempotency.sealing`): answers carry tokens.
"""

import logging

import anyio
from pymongo.errors import AutoReconnect, ConnectionFailure, PyMongoError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import scope_error_response
from app.api.state import Services
from app.errors import AppError, ServiceUnavailable
from app.idempotency.errors import (
    HEADER,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    InvalidIdempotencyKey,
)
from app.idempotency.repository import (
    Claimed,
    IdempotencyRecords,
    InProgress,
    Replay,
    Reused,
    SavedResponse,
)
from app.idempotency.sealing import KeyIdentity, request_digest

logger = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
VERSIONED_API = "/api/v1/"
SIGN_UP = "/org/create"
_HEADER = HEADER.lower().encode()
_REPLAYED = (REPLAYED_HEADER.lower().encode(), b"true")
_NOT_SAVED = frozenset({400, 401, 408, 409, 423, 429})
# Per request, or the server's to set: never replayed.
_NOT_REPLAYED = frozenset({b"x-request-id", b"date", b"server", b"connection"})


def covers(method: str, path: str) -> bool:
    """Whether `method` on `path` (a request's path or a route's template) honours
    `Idempotency-Key`. The middleware and the OpenAPI document both ask this."""
    return method.upper() == "POST" and (path.startswith(VERSIONED_API) or path == SIGN_UP)


def parse_key(values: list[bytes]) -> str:
    if len(values) != 1:
        raise InvalidIdempotencyKey(f"Send one {HEADER} header")
    key = values[0].decode("latin-1")
    if not key.strip():
        raise InvalidIdempotencyKey(f"{HEADER} must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey(f"{HEADER} must be at most {MAX_KEY_LENGTH} characters")
    if not all(" " <= character <= "~" for character in key):
        raise InvalidIdempotencyKey(f"{HEADER} must be printable ASCII")
    return key


def worth_saving(status: int) -> bool:
    return status < 500 and status not in _NOT_SAVED


class IdempotencyMiddleware:
    """Runs inside the body size limit (the body it buffers is bounded) and inside the
    request-id middleware (replays get their own `X-Request-ID`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not covers(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        values = [value for name, value in scope["headers"] if name.lower() == _HEADER]
        if not values:
            await self.app(scope, receive, send)
            return
        try:
            key = parse_key(values)
        except InvalidIdempotencyKey as invalid:
            await _refuse(invalid, scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away
        services: Services = scope["state"]["services"]
        records = services.idempotency
        identity = KeyIdentity.of(Headers(scope=scope).get("authorization"), key)
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{scope['path']}?{query}" if query else scope["path"]
        try:
            claim = await records.claim(identity, request_digest(scope["method"], target, body))
        except (ConnectionFailure, AutoReconnect) as exc:
            logger.warning("idempotency records unreachable: %s", type(exc).__name__)
            await _refuse(ServiceUnavailable(), scope, receive, send)
            return
        if isinstance(claim, Replay):
            await _replay(claim.response, send)
        elif isinstance(claim, Reused):
            await _refuse(IdempotencyKeyReused(), scope, receive, send)
        elif isinstance(claim, InProgress):
            busy = IdempotencyRequestInProgress(claim.retry_after_seconds)
            await _refuse(busy, scope, receive, send)
        else:
            await self._run(claim, records, body, scope, receive, send)

    async def _run(
        self,
        claim: Claimed,
        records: IdempotencyRecords,
        body: bytes,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        settled = False
        body_given = False

        async def replay_body() -> Message:
            nonlocal body_given
            if body_given:
                return await receive()
            body_given = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal start, settled
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None and not settled:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    settled = True
                    await _settle(records, claim, start, b"".join(chunks))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            with anyio.CancelScope(shield=True):  # a cancelled request still lets go
                await _release(records, claim)
            raise
        if not settled:
            await _release(records, claim)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _settle(records: IdempotencyRecords, claim: Claimed, start: Message, body: bytes) -> None:
    """Save a finished answer for replays, or forget the claim; the caller's answer stands
    either way."""
    status = int(start["status"])
    if not worth_saving(status):
        await _release(records, claim)
        return
    headers = [
        (bytes(name), bytes(value))
        for name, value in start.get("headers", [])
        if bytes(name).lower() not in _NOT_REPLAYED
    ]
    try:
        saved = await records.complete(claim, SavedResponse(status, headers, body))
    except PyMongoError as exc:
        logger.warning("could not save the answer for replays: %s", type(exc).__name__)
        await _release(records, claim)
        return
    if not saved:
        logger.warning("an idempotency claim was taken over before its answer was saved")


async def _release(records: IdempotencyRecords, claim: Claimed) -> None:
    try:
        await records.release(claim)
    except PyMongoError as exc:
        logger.warning("could not release an idempotency claim: %s", type(exc).__name__)


async def _replay(response: SavedResponse, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": response.status,
            "headers": [*response.headers, _REPLAYED],
        }
    )
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


async def _refuse(error: AppError, scope: Scope, receive: Receive, send: Send) -> None:
    await scope_error_response(error, scope)(scope, receive, send)
