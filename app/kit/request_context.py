"""The request being served, as the code below the HTTP layer may know it: its id and the
caller's address (set by `app.api.request_ids`), and a log filter that stamps records with it.
"""

import logging
from contextvars import ContextVar, Token

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_client_address: ContextVar[str | None] = ContextVar("client_address", default=None)


def current_request_id() -> str:
    return _request_id.get()


def current_client_address() -> str | None:
    """The caller's address, as the server resolved it (trusted proxies honoured)."""
    return _client_address.get()


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


def bind(request_id: str, client_address: str | None) -> tuple[Token[str], Token[str | None]]:
    """Make the request's id and address current for the code it runs; `unbind` undoes it."""
    return _request_id.set(request_id), _client_address.set(client_address)


def unbind(tokens: tuple[Token[str], Token[str | None]]) -> None:
    _request_id.reset(tokens[0])
    _client_address.reset(tokens[1])
