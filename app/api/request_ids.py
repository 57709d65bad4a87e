"""Request ids, and the last line of defence against unexpected exceptions.

Every request gets an id (the caller's `X-Request-ID` when it is sane, a fresh one otherwise),
echoed in the response header and attached to every log record written while it runs. An
exception nothing else handled is logged with that id and answered with a generic 500 that
quotes it, so an operator can find the stack trace without the client ever seeing it.
"""

import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import scope_error_response
from app.errors import AppError
from app.kit.request_context import bind, unbind

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

logger = logging.getLogger(__name__)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = (
            dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        )
        request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        client = scope.get("client")
        bound = bind(request_id, client[0] if client else None)
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not response_started:
                response = scope_error_response(AppError(), scope)
                await response(scope, receive, send_with_id)
        finally:
            unbind(bound)
