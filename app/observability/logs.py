"""Log set-up: one record per line, text or JSON, each carrying its request id.

Records never carry passwords, password hashes or tokens: nothing logs request bodies or
headers, and the access log records only method, route template, status, latency and the
caller's organization id.
"""

import logging
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

from app.kit.request_context import RequestIdLogFilter

LogFormat = Literal["text", "json"]

_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(_formatter(log_format))
        if not any(isinstance(f, RequestIdLogFilter) for f in handler.filters):
            handler.addFilter(RequestIdLogFilter())
    logging.getLogger("app").setLevel(level)
    root.setLevel(min(root.level or logging.WARNING, logging.getLevelName(level)))


def _formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            _JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    return logging.Formatter(_TEXT_FORMAT)
