"""Log set-up: one record per line, text or JSON, each carrying its request id and an RFC 3339
UTC time (`2026-12-03T06:15:48.056Z`).

uvicorn's own records (start-up, shutdown, errors) go through the same handlers, whether
the service was started with `python main.py` or `uvicorn main:app`, so a JSON log holds
nothing but JSON lines; uvicorn's terminal-coloured copy of a message is left out.

Records never carry passwords, password hashes or tokens: nothing logs request bodies or
headers, and the access log records only method, route template, status, latency and the
caller's organization id.
"""

import logging
from datetime import UTC, datetime
from typing import Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.kit.request_context import RequestIdLogFilter

LogFormat = Literal["text", "json"]

_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


# uvicorn's loggers, which `uvicorn main:app` gives handlers of their own.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(_formatter(log_format))
        if not any(isinstance(f, RequestIdLogFilter) for f in handler.filters):
            handler.addFilter(RequestIdLogFilter())
    for name in _SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    # The service writes its own access log (`app.access`); uvicorn's would repeat each line,
    # and it writes only while its logger has somewhere to write to.
    logging.getLogger("uvicorn.access").propagate = False
    logging.getLogger("app").setLevel(level)
    root.setLevel(min(root.level or logging.WARNING, logging.getLevelName(level)))


def utc_time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _TextFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return utc_time(record)


class _JsonFormatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return utc_time(record)


def _formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return _JsonFormatter(
            _JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
            # uvicorn adds a copy of some messages with terminal colour codes.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
    return _TextFormatter(_TEXT_FORMAT)
