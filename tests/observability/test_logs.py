"""Access logs: one structured line per request, and never a secret in any record."""

import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.support import EMAIL, PASSWORD, created_org, rename
from tests.wire.conftest import free_port


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


_RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.mark.parametrize(
    "command",
    [["main.py"], ["-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port", "{port}"]],
    ids=["python main.py", "uvicorn main:app"],
)
def test_every_line_a_json_server_writes_is_json_with_a_utc_time(command: list[str]) -> None:
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MONGO", "LOG_", "ENVIRONMENT"))
    }
    environment.update(
        LOG_FORMAT="json", HOST="127.0.0.1", PORT=str(port), ENVIRONMENT="development"
    )
    server = subprocess.Popen(  # noqa: S603 - this interpreter, the project's own entry points
        [sys.executable, *(part.format(port=port) for part in command)],
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)

    lines = output.decode().splitlines()
    records = [json.loads(line) for line in lines]
    messages = [record["message"] for record in records]
    assert any("Application startup complete" in message for message in messages), messages
    assert any(record["logger"] == "app.access" for record in records)
    # One access line a request: the service's own, never uvicorn's beside it.
    assert not any(record["logger"] == "uvicorn.access" for record in records), records
    for record in records:
        assert _RFC3339_UTC.fullmatch(record["time"]), record
        assert "color_message" not in record
