"""Every JSON request body is checked for values MongoDB cannot hold before a handler sees it.

The check is `app.db.values`, the same one documents, metadata and filters apply; doing it
here, once per body, covers typed fields too (a password or an address line with a lone
surrogate would otherwise fail deep in hashing or in the driver), and names the exact path
of the offending value, which a schema's validator cannot.

Every router uses `CheckedBodyRoute`; `tests/api/test_hostile_input.py` fails if one does not.
"""

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from app.db.values import check_value

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI would read the body as JSON (it does for `application/json` and `+json`)."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def check_json_body(request: Request) -> None:
    if not _is_json(request.headers.get("content-type")):
        return
    try:
        body = await request.json()
    except Exception:  # unreadable: FastAPI answers that itself, in the validation shape
        return
    check_value(body, ("body",))


class CheckedBodyRoute(APIRoute):
    """A route whose JSON body, if it takes one, passes `app.db.values` first."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def checked(request: Request) -> Response:
            await check_json_body(request)
            return await handler(request)

        return checked
