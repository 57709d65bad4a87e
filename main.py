"""Entry point: `python main.py` serves Tenantry; `uvicorn main:app` works as well."""

import uvicorn

from app.config import ConfigurationError, load_settings
from app.factory import create_app

try:
    settings = load_settings()
except ConfigurationError as exc:
    raise SystemExit(f"tenantry: {exc}") from None

app = create_app(settings)


if __name__ == "__main__":
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        loop="uvloop",
        http="httptools",
        # X-Forwarded-For is honoured only from the proxies FORWARDED_ALLOW_IPS names; without
        # any, the connecting address is the client's (anyone can write that header).
        proxy_headers=bool(settings.forwarded_allow_ips.strip()),
        # The service logs every request itself (app.access) and formats uvicorn's own
        # records like the rest, JSON included.
        access_log=False,
        log_config=None,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=30,
    )
