"""Log set-up: one line per record, each carrying the id of the request it belongs to."""

import logging

from app.request_context import RequestIdLogFilter

_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(console)
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdLogFilter) for f in handler.filters):
            handler.addFilter(RequestIdLogFilter())
    logging.getLogger("app").setLevel(level)
    root.setLevel(min(root.level or logging.WARNING, logging.getLevelName(level)))
