"""The service under test (or a floor app) as a real uvicorn process on a free loopback port."""

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from asyncio.subprocess import Process
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import annotated_types
import httpx
from pymongo import AsyncMongoClient

from app.config import Settings
from bench.stores import HOST, MEMORY_URI, REPO_ROOT, free_port, stop_process

STARTUP_SECONDS = 120.0
# Only what an interpreter needs to run; nothing else leaks in from the caller's shell.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
SERVICE = "main:app"

# Runs the exact uvicorn command line, plus one route that blocks the event loop for 250 ms:
# proof that a slow callback, if the service had one, would reach the captured stderr.
BLOCKING_CONTROL = """
import sys, time
import main
async def _block() -> dict[str, str]:
    time.sleep(0.25)
    return {}
main.app.add_api_route("/bench-blocking-control", _block)
import uvicorn
uvicorn.main(args=sys.argv[1:])
"""
BLOCKING_ROUTE = "/bench-blocking-control"


@dataclass(frozen=True)
class ServerOptions:
    mongo_uri: str = MEMORY_URI
    bcrypt_rounds: int = 12
    loop: str = "uvloop"
    asyncio_debug: bool = False
    blocking_control: bool = False
    extra_env: tuple[tuple[str, str], ...] = ()
    # What uvicorn serves: the service, or a factory such as the floor app's.
    target: str = SERVICE
    factory: bool = False
    # Reuse these databases (and leave them in place) instead of fresh ones dropped at the end.
    primary_db: str = ""
    # How long start-up may take before the server counts as failed.
    startup_seconds: float = STARTUP_SECONDS


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    primary_db: str
    tenant_db: str
    stderr_path: Path
    pid: int

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def stderr_text(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def highest_allowed(setting: str) -> str:
    """The largest value the service accepts for `setting`, so that no scenario ever meets a
    429: throttling is not what is being measured."""
    for constraint in Settings.model_fields[setting].metadata:
        if isinstance(constraint, annotated_types.Le):
            return str(constraint.le)
    return "1000000"


def server_environment(options: ServerOptions, primary_db: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(
        {
            "MONGO_URI": options.mongo_uri,
            "PRIMARY_DB": primary_db,
            "TENANT_DB": f"{primary_db}_tenants",
            "SECRET_KEY": secrets.token_urlsafe(48),
            # Production refuses the in-memory store; its key checks hold either way, since
            # the bench always hands a strong key.
            "ENVIRONMENT": "development" if options.mongo_uri == MEMORY_URI else "production",
            "LOG_LEVEL": "WARNING",
            "BCRYPT_ROUNDS": str(options.bcrypt_rounds),
            # No background work during a load window unless a scenario asks for it.
            "RECOVERY_INTERVAL_SECONDS": "0",
            "CAPACITY_REFRESH_SECONDS": "0",
            "LOGIN_MAX_FAILURES_PER_ADDRESS": highest_allowed("login_max_failures_per_address"),
            "LOGIN_MAX_FAILURES_PER_ACCOUNT": highest_allowed("login_max_failures_per_account"),
            # 0 turns the sign-up limits off; member limits 0 mean no limit (invitations).
            "SIGNUP_PER_ADDRESS_PER_HOUR": "0",
            "SIGNUP_TOTAL_PER_HOUR": "0",
            "PLAN_MEMBER_LIMITS": "free=0,pro=0,enterprise=0",
            "API_KEY_REQUESTS_PER_MINUTE": "0",
        }
    )
    if options.asyncio_debug:
        env["PYTHONASYNCIODEBUG"] = "1"
    env.update(dict(options.extra_env))
    return env


def server_command(port: int, options: ServerOptions) -> list[str]:
    uvicorn_args = [
        options.target,
        *(["--factory"] if options.factory else []),
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--loop",
        options.loop,
        "--http",
        "httptools",
    ]
    if options.blocking_control:
        return [sys.executable, "-c", BLOCKING_CONTROL, *uvicorn_args]
    return [sys.executable, "-m", "uvicorn", *uvicorn_args]


@asynccontextmanager
async def running_server(
    options: ServerOptions, stderr_path: Path | None = None
) -> AsyncIterator[RunningServer]:
    """Start the server, wait until `/health` answers, and stop it (SIGTERM, then SIGKILL).

    The server's stderr goes to `stderr_path` when given (still readable after the server
    has stopped, shutdown messages included), else to a temporary file.
    """
    primary_db = options.primary_db or fresh_database_name()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tenantry-bench-") as workdir:
        stderr_path = stderr_path or Path(workdir) / "server.stderr"
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                *server_command(port, options),
                cwd=REPO_ROOT,
                env=server_environment(options, primary_db),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        server = RunningServer(
            base_url=f"http://{HOST}:{port}",
            primary_db=primary_db,
            tenant_db=f"{primary_db}_tenants",
            stderr_path=stderr_path,
            pid=process.pid,
        )
        try:
            await _wait_until_healthy(server, process, options.startup_seconds)
            yield server
        finally:
            await stop_process(process)
            if options.mongo_uri != MEMORY_URI and not options.primary_db:
                await drop_databases(options.mongo_uri, [server.primary_db, server.tenant_db])


async def _wait_until_healthy(server: RunningServer, process: Process, limit: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0) as client:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise RuntimeError(
                    f"the service exited with {process.returncode} during start-up:\n"
                    + _tail(server.stderr_text())
                )
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/health")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(
        f"the server did not answer /health within {limit:.0f}s:\n" + _tail(server.stderr_text())
    )


def fresh_database_name() -> str:
    return f"tenantry_bench_{uuid.uuid4().hex[:12]}"


async def drop_databases(uri: str, names: list[str]) -> None:
    client: AsyncMongoClient[Mapping[str, object]] = AsyncMongoClient(
        uri, serverSelectionTimeoutMS=5000
    )
    try:
        for name in names:
            await client.drop_database(name)
    finally:
        await client.close()


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.splitlines()[-lines:])
