"""`python -m bench.where_time_goes`: where a request's server CPU goes, by layer and by stage.

The service runs as in `python -m bench` (a uvicorn process; the in-memory store and the
nx-27017 stand-in). The read floor and then each chosen read cell are loaded with wrk while
py-spy samples the server process. Each sample is counted twice: for the layer its innermost
known frame belongs to (the HTTP server, the event loop, the framework, the service, the
driver, the in-memory store), and for the stage of the request it is in (`STAGES`: the
innermost function entered among the database commands, the token check, the handler,
dependency solving, route matching, the middleware, ...). Shares are of the samples taken
while the server was busy (py-spy leaves idle ones out); each is also shown as that share of
the server's CPU per request, read from `/proc` meanwhile.

py-spy reads the server's memory with ptrace: run as root, or allow it
(`sysctl kernel.yama.ptrace_scope=0`, or `--cap-add SYS_PTRACE` in a container).
"""

import argparse
import asyncio
import shutil
import sys
import tempfile
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from bench import cells, loadgen
from bench.machine import code_revision, process_cpu_seconds
from bench.measure import Target, quiet
from bench.progress import speaker
from bench.stores import StoreKind, opened

say = speaker("where_time_goes")

# As in scenario 3's closed-loop cells.
CONNECTIONS = 16

# The layer of a frame, by the first of these its file path contains.
LAYERS: tuple[tuple[str, str], ...] = (
    ("pymongo/", "database driver (PyMongo, BSON)"),
    ("bson/", "database driver (PyMongo, BSON)"),
    ("mongomock", "in-memory store (mongomock)"),
    ("app/db/memory.py", "in-memory store (mongomock)"),
    ("app/", "the service's own code"),
    ("fastapi/", "framework (FastAPI, Starlette, pydantic)"),
    ("starlette/", "framework (FastAPI, Starlette, pydantic)"),
    ("pydantic", "framework (FastAPI, Starlette, pydantic)"),
    ("uvicorn/", "HTTP server (uvicorn, httptools)"),
    ("httptools", "HTTP server (uvicorn, httptools)"),
    ("asyncio/", "event loop (asyncio, uvloop)"),
    ("uvloop", "event loop (asyncio, uvloop)"),
)
OTHER = "other (standard library, logging, metrics)"

# The stage of a request a sample is in: that of the innermost frame on its stack that enters
# one of these functions, so the stages partition the samples and whatever a function calls
# (framework internals included) counts for it.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "database commands and BSON (driver or in-memory store)",
        ("(pymongo/", "(bson/", "(mongomock", "(app/db/memory.py"),
    ),
    ("the token or key check, its own code", ("SessionService.check (", "ApiKeyService.auth")),
    ("the handler, its own code", ("run_endpoint_function (fastapi/",)),
    ("response serialization", ("serialize_response (fastapi/",)),
    ("dependency solving (FastAPI)", ("solve_dependencies (fastapi/",)),
    ("route matching (FastAPI)", ("._match (fastapi/",)),
    ("request handling (FastAPI)", ("get_request_handler.", "APIRouter.app (fastapi/")),
    ("the service's middleware", ("Middleware.__call__ (app/",)),
    (
        "outer middleware (FastAPI, Starlette)",
        ("FastAPI.__call__ (", "Starlette.__call__ (", "ServerErrorMiddleware.", "(fastapi/_body"),
    ),
    ("HTTP server (uvicorn, httptools)", ("(uvicorn/",)),
)
REST = "event loop and the rest"
# Shown as well, anywhere on the stack.
ALSO: tuple[tuple[str, str], ...] = (
    ("the token check's read", "MembershipRepository.standing ("),
    ("recording the member's activity", "SessionService._note_activity ("),
    ("command monitoring (the service's metrics)", "(app/observability/"),
)


def layer_of(frame: str) -> str:
    where = frame.rsplit("(", 1)[-1]
    return next((layer for part, layer in LAYERS if part in where), OTHER)


def stage_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for stage, markers in STAGES:
            if any(marker in frame for marker in markers):
                return stage
    return REST


@dataclass
class Breakdown:
    samples: int = 0
    layers: Counter[str] = field(default_factory=Counter)
    stages: Counter[str] = field(default_factory=Counter)
    also: Counter[str] = field(default_factory=Counter)
    # The server's CPU per request while it was sampled (the sampler's own CPU not in it).
    cpu_ms: float = 0.0

    def add(self, stack: list[str], count: int) -> None:
        self.samples += count
        known = (layer_of(frame) for frame in reversed(stack))
        self.layers[next((layer for layer in known if layer != OTHER), OTHER)] += count
        self.stages[stage_of(stack)] += count
        for step, marker in ALSO:
            if any(marker in frame for frame in stack):
                self.also[step] += count


def read_raw(path: Path) -> Breakdown:
    """py-spy's `--format raw` output: one `frame;frame;… count` line per distinct stack."""
    breakdown = Breakdown()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            breakdown.add(stack.split(";"), int(count))
    return breakdown


async def _sample(pid: int, seconds: int, rate: int, out: Path) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    process = await asyncio.create_subprocess_exec(
        spy,
        *("record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate)),
        *("--format", "raw", "--output", str(out), "--nonblocking"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, error = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"py-spy failed: {error.decode(errors='replace').strip()[-300:]}")


async def _sampled(target: Target, request: loadgen.Request, seconds: int, rate: int) -> Breakdown:
    """Samples of the server under closed-loop load of `request`, and its CPU per request."""
    await loadgen.run(target.base_url, request, connections=CONNECTIONS, seconds=2, expect=200)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "samples.txt"
        before = process_cpu_seconds(target.pid)
        sampled = asyncio.create_task(_sample(target.pid, seconds, rate, out))
        load = await loadgen.run(
            target.base_url, request, connections=CONNECTIONS, seconds=seconds + 1, expect=200
        )
        await sampled
        found = read_raw(out)
    found.cpu_ms = (await quiet(target.pid) - before) / max(load.served, 1) * 1000
    if load.refused or load.lost:
        raise RuntimeError(f"{load.refused + load.lost} of {load.completed} requests failed")
    return found


async def measure(kind: StoreKind, wanted: list[str], seconds: int, rate: int) -> list[str]:
    lines: list[str] = []
    async with AsyncExitStack() as stack:
        store = await stack.enter_async_context(opened(kind))
        floor = await cells.start_floor(stack, store, "bare")
        say(f"{store.label}: {cells.FLOOR}")
        found = await _sampled(floor, cells.floor_request("read"), seconds, rate)
        lines += _table(f"{store.label}: {cells.FLOOR} (read)", found)
        service, accounts, _ = await cells.start_service(stack, store)
        chosen = [c for c in cells.read_cells(accounts, CONNECTIONS) if c.name in wanted]
        for cell in chosen:
            say(f"{store.label}: {cell.name}")
            request = cell.request.with_tag(uuid.uuid4().hex[:8])
            lines += _table(
                f"{store.label}: {cell.name}", await _sampled(service, request, seconds, rate)
            )
    return lines


def _table(title: str, found: Breakdown) -> list[str]:
    def row(what: str, count: int) -> str:
        share = count / max(found.samples, 1)
        return f"| {what} | {share:.1%} | {share * found.cpu_ms:.3f} |"

    lines = [
        f"### {title}",
        "",
        f"{found.samples:,} samples; server CPU {found.cpu_ms:.3f} ms per request.",
        "",
        "| layer (innermost frame) | share | ms/request |",
        "|---|---|---|",
        *(row(layer, count) for layer, count in found.layers.most_common()),
        "",
        "| stage of the request (innermost) | share | ms/request |",
        "|---|---|---|",
        *(row(stage, count) for stage, count in found.stages.most_common()),
        *(row(f"of all: {step}", found.also[step]) for step, _ in ALSO if found.also[step]),
    ]
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["memory", "wire", "both"], default="both")
    parser.add_argument(
        "--cell",
        action="append",
        help="a read cell of `python -m bench`, by name (repeatable; default: "
        "'GET /org/get' and 'GET …/documents/{doc}')",
    )
    parser.add_argument("--seconds", type=int, default=20, help="sampled seconds per cell")
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    args = parser.parse_args(argv)
    wanted = args.cell or ["GET /org/get", "GET …/documents/{doc}"]
    kinds: list[StoreKind] = ["memory", "wire"] if args.store == "both" else [args.store]
    revision = code_revision()
    lines = [f"Code: {revision.describe()}", ""]
    for kind in kinds:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            lines += runner.run(measure(kind, wanted, args.seconds, args.rate))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
