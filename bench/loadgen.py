"""Closed-loop load: wrk when it is installed, the Python client (slower) when it is not.

wrk (`apt-get install wrk`) reaches several thousand requests/s on one core where the Python
client tops out at a few hundred, so with it the load generator is not what limits a cell.
Requests are described once (`Request`) and sent by either; `bench/wrk_request.lua` makes wrk
send headers, a JSON body and names unique per request.
"""

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.load import Sample, Send, run_load, worker_clients

# In a path or body, replaced by a value unique within one load run.
UNIQUE = "@N@"
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_request.lua"
WRK_TIMEOUT_SECONDS = 30
MISSING_WRK = (
    "wrk is not installed (`apt-get install wrk`): the Python load generator was used instead. "
    "It tops out at a few hundred requests/s and shares the cores with the server, so req/s and "
    "latencies are the client's ceiling as much as the server's; CPU per request still holds."
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    def with_tag(self, tag: str) -> "Request":
        """The same request with `{tag}` filled in (a run's own prefix for unique names)."""
        return Request(
            self.method,
            self.path.replace("{tag}", tag),
            self.body.replace("{tag}", tag),
            self.headers,
        )


@dataclass(frozen=True)
class LoadResult:
    """One closed-loop run: every completed response, and those that were not 2xx/3xx."""

    generator: str
    # Responses received, and those of them that were not 2xx/3xx.
    completed: int
    refused: int
    # Requests that got no response (connection errors, timeouts).
    lost: int
    # Requests the server still had when the load stopped: wrk closes its connections with
    # one request outstanding on each, which the server finishes all the same.
    in_flight_at_end: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def ok(self) -> int:
        return self.completed - self.refused

    @property
    def failed(self) -> int:
        return self.refused + self.lost

    @property
    def served(self) -> int:
        """Requests the server worked on: those answered and those it finished unanswered."""
        return self.completed + self.in_flight_at_end

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


def wrk_path() -> str | None:
    return shutil.which("wrk")


def describe() -> str:
    """The load generator a run uses, for the results' notes."""
    return "wrk" if wrk_path() else "the Python client: wrk is not installed"


async def run(
    base_url: str, request: Request, *, connections: int, seconds: int, expect: int
) -> LoadResult:
    """`connections` keep-alive connections send `request` back to back for `seconds`."""
    wrk = wrk_path()
    if wrk is None:
        return await _python_run(base_url, request, connections, seconds, expect)
    return await _wrk_run(wrk, base_url, request, connections, seconds)


async def _wrk_run(
    wrk: str, base_url: str, request: Request, connections: int, seconds: int
) -> LoadResult:
    headers = [f"{name}: {value}" for name, value in request.headers]
    process = await asyncio.create_subprocess_exec(
        wrk,
        "-t",
        str(min(2, connections)),
        "-c",
        str(connections),
        "-d",
        f"{max(1, seconds)}s",
        "--timeout",
        f"{WRK_TIMEOUT_SECONDS}s",
        "-s",
        str(WRK_SCRIPT),
        base_url,
        "--",
        request.method,
        request.path,
        request.body,
        *headers,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    line = next((row for row in out.decode().splitlines() if row.startswith("WRK_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {err.decode()[-500:]}")
    found = json.loads(line.removeprefix("WRK_JSON "))
    socket_errors = sum(
        found[name] for name in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return LoadResult(
        generator="wrk",
        completed=found["requests"],
        refused=found["status_errors"],
        lost=socket_errors,
        in_flight_at_end=connections,
        seconds=found["duration_us"] / 1e6,
        p50_ms=found["p50_us"] / 1000,
        p90_ms=found["p90_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        max_ms=found["max_us"] / 1000,
    )


async def send_once(client: httpx.AsyncClient, request: Request, unique: str) -> httpx.Response:
    """`request` sent by the Python client, `unique` in place of every UNIQUE marker."""
    headers = dict(request.headers)
    if request.body:
        headers["Content-Type"] = "application/json"
    return await client.request(
        request.method,
        request.path.replace(UNIQUE, unique),
        content=request.body.replace(UNIQUE, unique).encode() or None,
        headers=headers,
    )


def as_send(request: Request) -> Send:
    async def send(client: httpx.AsyncClient, number: int) -> httpx.Response:
        return await send_once(client, request, f"py-{number}")

    return send


async def _python_run(
    base_url: str, request: Request, connections: int, seconds: int, expect: int
) -> LoadResult:
    async with worker_clients(base_url, connections) as clients:
        sample: Sample = await run_load(
            clients,
            as_send(request),
            duration=float(seconds),
            max_requests=10**9,
            expect=expect,
        )
    return LoadResult(
        generator="httpx",
        completed=sample.ok + sample.errors,
        refused=sample.errors,
        lost=0,
        in_flight_at_end=0,
        seconds=sample.elapsed,
        p50_ms=sample.p50_ms,
        p90_ms=sample.percentile_ms(0.90),
        p99_ms=sample.p99_ms,
        max_ms=sample.percentile_ms(1.0),
    )
