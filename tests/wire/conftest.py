"""The production driver path: `AsyncMongoClient` over TCP.

Always against `nx-27017`, a MongoDB wire-protocol server started for the test session on a free
loopback port with its own data directory and pid file; also against a real MongoDB when
`MONGODB_TEST_URI` is set. Tests that need what only a real server does skip on the stand-in,
saying which of its gaps they would hit.
"""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from app.config import ExplicitSettings, Settings
from app.db.connect import open_store
from app.db.store import Document, Store
from app.factory import create_app
from tests.conftest import NO_BACKGROUND_WORK

STARTUP_SECONDS = 20


@dataclass(frozen=True)
class Server:
    kind: str  # "nx-27017" or "mongodb"
    uri: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nx-27017 exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nx-27017 did not listen on port {port} in {STARTUP_SECONDS}s")


@pytest.fixture(scope="session")
def nx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("nx-27017")
    pid_file = workdir / "nx-27017.pid"
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own test dependency, fixed arguments
        [
            sys.executable,
            "-m",
            "tests.wire.nx_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(workdir / "data"),
            "--pid-file",
            str(pid_file),
            "--log-file",
            str(workdir / "nx-27017.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).parents[2],
    )
    try:
        _wait_for(port, process)
        yield Server("nx-27017", f"mongodb://127.0.0.1:{port}")
    finally:
        pid = int(pid_file.read_text()) if pid_file.exists() else process.pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=["nx-27017", "mongodb"])
def server(request: pytest.FixtureRequest) -> Server:
    if request.param == "mongodb":
        uri = os.environ.get("MONGODB_TEST_URI")
        if not uri:
            pytest.skip("MONGODB_TEST_URI is not set: no real MongoDB to test against")
        return Server("mongodb", uri)
    nx: Server = request.getfixturevalue("nx_server")
    return nx


@pytest.fixture
def wire_settings(server: Server) -> Settings:
    suffix = uuid.uuid4().hex[:12]
    return ExplicitSettings(
        mongo_uri=server.uri,
        primary_db=f"tenantry_test_{suffix}",
        tenant_db=f"tenantry_test_{suffix}_tenants",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        mongo_timeout_ms=5000,
        **NO_BACKGROUND_WORK,
    )


async def drop_databases(settings: Settings) -> None:
    """Remove a test's master and tenant databases from the server."""
    cleanup: AsyncMongoClient[Document] = AsyncMongoClient(settings.mongo_uri)
    try:
        await cleanup.drop_database(settings.primary_db)
        await cleanup.drop_database(settings.tenant_db)
    finally:
        await cleanup.close()


@pytest.fixture
async def wire_store(wire_settings: Settings) -> AsyncIterator[Store]:
    """An independent driver connection to check what the service really wrote."""
    store = open_store(wire_settings)
    yield store
    try:
        await drop_databases(wire_settings)
    finally:
        await store.close()


@pytest.fixture
def wire_app(wire_settings: Settings) -> FastAPI:
    return create_app(wire_settings)


@pytest.fixture
async def wire_client(wire_app: FastAPI, wire_store: Store) -> AsyncIterator[AsyncClient]:
    async with (
        # A loaded machine can take more than the default 5 s to stop the service over TCP;
        # a shutdown cut short would leave its client's sockets open.
        LifespanManager(wire_app, startup_timeout=30, shutdown_timeout=30) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client
