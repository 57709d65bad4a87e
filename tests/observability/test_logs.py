"""Access logs: one structured line per request, and never a secret in any record."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.support import EMAIL, PASSWORD, created_org, rename


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


async def test_json_logs_describe_each_request_without_secrets(
    settings: Settings, store: Store, log_stream: io.StringIO
) -> None:
    app = create_app(
        settings.model_copy(update={"log_format": "json"}), store_opener=lambda _: borrowed(store)
    )
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://t") as client,
    ):
        created = await created_org(client)
        login = await client.post(
            "/admin/login",
            json={"email": EMAIL, "password": PASSWORD},
            headers={"X-Request-ID": "login-req-1"},
        )
        token = login.json()["access_token"]
        await rename(client, token, "Logged Corp")

    records = [json.loads(line) for line in log_stream.getvalue().splitlines() if line]
    access = [r for r in records if r["logger"] == "app.access"]
    logged_in = next(r for r in access if r["path"] == "/admin/login")
    assert logged_in["request_id"] == "login-req-1"
    assert logged_in["method"] == "POST"
    assert logged_in["status"] == 200
    assert logged_in["latency_ms"] > 0
    renamed = next(r for r in access if r["path"] == "/org/update")
    assert renamed["organization_id"] == created["id"]
    everything = log_stream.getvalue()
    assert PASSWORD not in everything
    assert token not in everything
    assert token.split(".")[2] not in everything
    assert "$2b$" not in everything
