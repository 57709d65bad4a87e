"""The stores a run measures on: the in-memory store, the nx-27017 wire stand-in, a MongoDB.

The stand-in is started the way the wire tests start it (`python -m tests.wire.nx_server`, which
closes one of its gaps with compound indexes ending in `_id`), on a free loopback port with its
own data directory, and stopped at the end of the run.
"""

import asyncio
import signal
import socket
import subprocess
import sys
import tempfile
from asyncio.subprocess import Process
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
MEMORY_URI = "memory://"
STAND_IN_STARTUP_SECONDS = 30.0
STOP_SECONDS = 15.0

StoreKind = Literal["memory", "wire", "mongodb"]


@dataclass(frozen=True)
class StoreUnderTest:
    kind: StoreKind
    uri: str
    # The database server's process on this machine (the stand-in's), whose CPU can be read.
    pid: int | None = None

    @property
    def in_memory(self) -> bool:
        return self.kind == "memory"

    @property
    def label(self) -> str:
        return {"memory": "in-memory", "wire": "nx-27017", "mongodb": "MongoDB"}[self.kind]


MEMORY = StoreUnderTest("memory", MEMORY_URI)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


async def _listening(port: int, process: Process) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STAND_IN_STARTUP_SECONDS
    while loop.time() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"nx-27017 exited with {process.returncode} during start-up")
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError(f"nx-27017 did not listen on port {port} in {STAND_IN_STARTUP_SECONDS}s")


async def stop_process(process: Process) -> None:
    """SIGTERM, then SIGKILL if it has not gone within STOP_SECONDS."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_SECONDS)
    except TimeoutError:
        process.kill()
        await asyncio.wait_for(process.wait(), STOP_SECONDS)


@asynccontextmanager
async def stand_in() -> AsyncIterator[StoreUnderTest]:
    """nx-27017 on a free port with a temporary data directory, for as long as the block runs."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tenantry-bench-nx-") as name:
        workdir = Path(name)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.wire.nx_server",
            "--host",
            HOST,
            "--port",
            str(port),
            "--data-dir",
            str(workdir / "data"),
            "--pid-file",
            str(workdir / "nx-27017.pid"),
            "--log-file",
            str(workdir / "nx-27017.log"),
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await _listening(port, process)
            yield StoreUnderTest("wire", f"mongodb://{HOST}:{port}", process.pid)
        finally:
            await stop_process(process)


@asynccontextmanager
async def opened(kind: StoreKind, mongo_uri: str = "") -> AsyncIterator[StoreUnderTest]:
    if kind == "memory":
        yield MEMORY
    elif kind == "wire":
        async with stand_in() as store:
            yield store
    else:
        yield StoreUnderTest("mongodb", mongo_uri)
