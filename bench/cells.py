"""Scenario 3: what each request path costs the server, against the framework floor.

For each store, three servers run side by side, all with the same uvicorn command line: the
floor app (`bench.floor_app`: bare FastAPI, one `find_one` or one `insert_one`), the floor app
inside the service's middleware stack, and the service. Every cell is loaded right after a
floor run of the same kind (read or write) at the same concurrency, round after round (floor,
cell, floor, cell, ...), and each figure against the floor is the median of the per-round
ratios, so a machine that is busier in one minute than in the next moves both sides alike.
"""

import json
import re
import statistics
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from bench import api, floor_app
from bench.load import make_client
from bench.loadgen import UNIQUE, Request, send_once
from bench.measure import Target, Window, scrape_cost, window
from bench.model import TIMES, Metric, Plan, Row, Spread, Table
from bench.progress import speaker
from bench.server import ServerOptions, running_server
from bench.stores import StoreUnderTest, opened

say = speaker("bench")

FloorKind = Literal["read", "write"]
CELL_BCRYPT_ROUNDS = 4
FLOOR = "floor: bare FastAPI"
FLOOR_MIDDLEWARE = "floor + the service's middleware"


@dataclass(frozen=True)
class Cell:
    name: str
    request: Request
    expect: int
    floor: FloorKind
    connections: int


def _json(body: dict[str, str | int]) -> str:
    return json.dumps(body, separators=(",", ":"))


_DOCUMENT = _json({"title": "Bench document", "status": "open", "n": 1})


def floor_request(kind: FloorKind) -> Request:
    if kind == "read":
        return Request("GET", f"{floor_app.READ_PATH}/{floor_app.key_for(7)}")
    return Request("POST", floor_app.WRITE_PATH, _DOCUMENT)


def expected(kind: FloorKind) -> int:
    return 200 if kind == "read" else 201


@dataclass(frozen=True)
class Accounts:
    """What the service's cells act on, created before the first round."""

    owner: api.Account
    renamed: api.Account
    document_id: str
    # The owner's organization through an API key of the member role.
    keyed: api.Account


async def _accounts(base_url: str) -> Accounts:
    tag = uuid.uuid4().hex[:8]
    async with make_client(base_url) as client:
        owner = await api.sign_up(client, api.org_name_for(tag, 0), api.email_for(tag, 0))
        renamed = await api.sign_up(client, api.org_name_for(tag, 1), api.email_for(tag, 1))
        document_id = await api.create_document(client, owner)
        keyed = await api.create_api_key(client, owner, "member")
    return Accounts(owner, renamed, document_id, keyed)


def read_cells(accounts: Accounts, connections: int) -> list[Cell]:
    owner = accounts.owner
    auth = (owner.authorization,)
    documents = api.documents_path(owner)
    organization = f"/api/v1/organizations/{owner.organization_id}"
    document = f"{documents}/{accounts.document_id}"
    return [
        Cell("GET /org/get", api.get_org(owner.organization_name), 200, "read", connections),
        Cell(
            "GET /api/v1/auth/me",
            Request("GET", "/api/v1/auth/me", "", auth),
            200,
            "read",
            connections,
        ),
        Cell(
            "GET /api/v1/organizations/{id}",
            Request("GET", organization, "", auth),
            200,
            "read",
            connections,
        ),
        Cell("GET …/documents/{doc}", Request("GET", document, "", auth), 200, "read", connections),
        Cell(
            "GET …/documents/{doc} (API key)",
            Request("GET", document, "", (accounts.keyed.authorization,)),
            200,
            "read",
            connections,
        ),
        Cell(
            "GET …/documents (list)", Request("GET", documents, "", auth), 200, "read", connections
        ),
    ]


def write_cells(accounts: Accounts, connections: int) -> list[Cell]:
    owner = accounts.owner
    auth = (owner.authorization,)
    invitation = _json({"email": f"invitee-{UNIQUE}-{{tag}}@bench.example.com", "role": "member"})
    return [
        Cell(
            "POST …/documents",
            Request("POST", api.documents_path(owner), _DOCUMENT, auth),
            201,
            "write",
            connections,
        ),
        Cell("POST /admin/login", api.login(owner.email), 200, "write", connections),
        Cell("POST /org/create", api.sign_up_request(), 201, "write", connections),
        Cell(
            "POST …/invitations",
            Request(
                "POST",
                f"/api/v1/organizations/{owner.organization_id}/invitations",
                invitation,
                auth,
            ),
            201,
            "write",
            connections,
        ),
        # One connection: concurrent renames of one organization would refuse each other.
        Cell("PUT /org/update (rename)", api.rename_request(accounts.renamed), 200, "write", 1),
    ]


@dataclass
class Series:
    """One row's windows, one per round, and the floor windows measured beside them."""

    windows: list[Window] = field(default_factory=list)
    floors: list[Window] = field(default_factory=list)

    def add(self, measured: Window, floor: Window) -> None:
        self.windows.append(measured)
        self.floors.append(floor)


@dataclass
class Servers:
    floor: Target
    middleware: Target
    # Two instances of the service on databases of their own: the write cells grow their
    # collections, which must not slow the read cells down from one round to the next (the
    # in-memory store scans).
    reads: Target
    writes: Target
    cells: list[Cell]
    stderr: list[Path]


async def start_service(
    stack: AsyncExitStack, store: StoreUnderTest
) -> tuple[Target, Accounts, Path]:
    options = ServerOptions(store.uri, bcrypt_rounds=CELL_BCRYPT_ROUNDS)
    service = await stack.enter_async_context(running_server(options))
    metrics: httpx.AsyncClient | None = None
    scrape = None
    if not store.in_memory:
        metrics = await stack.enter_async_context(make_client(service.base_url))
        scrape = await scrape_cost(metrics)
    accounts = await _accounts(service.base_url)
    target = Target(service.base_url, service.pid, store.pid, metrics, scrape)
    return target, accounts, service.stderr_path


async def start_floor(stack: AsyncExitStack, store: StoreUnderTest, variant: str) -> Target:
    options = ServerOptions(store.uri, target=f"bench.floor_app:{variant}", factory=True)
    server = await stack.enter_async_context(running_server(options))
    return Target(server.base_url, server.pid, store.pid)


@asynccontextmanager
async def _servers(store: StoreUnderTest, connections: int) -> AsyncIterator[Servers]:
    async with AsyncExitStack() as stack:
        floor = await start_floor(stack, store, "bare")
        middleware = await start_floor(stack, store, "with_middleware")
        reads, read_accounts, read_log = await start_service(stack, store)
        writes, write_accounts, write_log = await start_service(stack, store)
        yield Servers(
            floor,
            middleware,
            reads,
            writes,
            read_cells(read_accounts, connections) + write_cells(write_accounts, connections),
            [read_log, write_log],
        )


@dataclass
class StoreResult:
    rows: list[Row]
    # Per cell, medians of commands per request by command name.
    by_command: dict[str, dict[str, float]]
    # uvicorn access-log lines the services wrote.
    access_lines: int
    # Per cell that had failures, what one request sent afterwards was answered.
    refusals: dict[str, str]


_EXCEPTION = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception)): (.{0,160})", re.MULTILINE)


async def _answer(target: Target, cell: Cell, log: Path) -> str:
    """What one more request of the cell is answered, and the last exception the service
    logged, if any."""
    async with make_client(target.base_url) as client:
        response = await send_once(client, cell.request.with_tag(uuid.uuid4().hex[:8]), "check")
    answer = f"{response.status_code} {response.text[:160]}"
    raised = _last_exception(log)
    return f"{answer}; last exception logged: {raised}" if raised else answer


def _last_exception(log: Path) -> str:
    raised = _EXCEPTION.findall(log.read_text(errors="replace"))
    return ": ".join(raised[-1]) if raised else ""


def _access_lines(logs: list[Path]) -> int:
    return sum(path.read_text(errors="replace").count("uvicorn.access") for path in logs)


async def _store_rows(store: StoreUnderTest, plan: Plan) -> StoreResult:
    seconds = plan.cell_seconds
    series: dict[str, Series] = {}
    async with _servers(store, plan.cell_connections) as servers:

        def service_for(cell: Cell) -> Target:
            return servers.reads if cell.floor == "read" else servers.writes

        def fresh(cell: Cell) -> Request:
            """The cell's request with a tag of its own: names never repeat across runs."""
            return cell.request.with_tag(uuid.uuid4().hex[:8])

        # Warm-up: first-request costs (imports, connections, caches) stay out of the rounds.
        for cell in [] if plan.quick else servers.cells:
            await window(
                service_for(cell),
                fresh(cell),
                connections=cell.connections,
                seconds=1,
                expect=cell.expect,
            )
        for round_number in range(plan.cell_rounds):
            say(f"  {store.label}: round {round_number + 1} of {plan.cell_rounds}")
            kinds: tuple[FloorKind, ...] = ("read", "write")
            for kind in kinds:
                floor = await window(
                    servers.floor,
                    floor_request(kind),
                    connections=plan.cell_connections,
                    seconds=seconds,
                    expect=expected(kind),
                )
                wrapped = await window(
                    servers.middleware,
                    floor_request(kind),
                    connections=plan.cell_connections,
                    seconds=seconds,
                    expect=expected(kind),
                )
                series.setdefault(f"{FLOOR} ({kind})", Series()).add(floor, floor)
                series.setdefault(f"{FLOOR_MIDDLEWARE} ({kind})", Series()).add(wrapped, floor)
            for cell in servers.cells:
                floor = await window(
                    servers.floor,
                    floor_request(cell.floor),
                    connections=cell.connections,
                    seconds=seconds,
                    expect=expected(cell.floor),
                )
                measured = await window(
                    service_for(cell),
                    fresh(cell),
                    connections=cell.connections,
                    seconds=seconds,
                    expect=cell.expect,
                )
                series.setdefault(cell.name, Series()).add(measured, floor)
        connections = {cell.name: cell.connections for cell in servers.cells}
        refusals = {
            f"{store.label}: {cell.name}": await _answer(
                service_for(cell), cell, servers.stderr[0 if cell.floor == "read" else 1]
            )
            for cell in servers.cells
            if any(w.load.failed for w in series[cell.name].windows)
        }
        # Read while the servers' logs still exist.
        access_lines = _access_lines(servers.stderr)
    rows = [
        _row(store, name, connections.get(name, plan.cell_connections), found)
        for name, found in series.items()
    ]
    by_command = {
        f"{store.label}: {name}": _by_command(found.windows)
        for name, found in series.items()
        if any(w.commands for w in found.windows)
    }
    return StoreResult(rows, by_command, access_lines, refusals)


def _ratios(numerators: list[float], denominators: list[float]) -> Spread:
    return Spread([n / d for n, d in zip(numerators, denominators, strict=True) if d > 0])


def _row(store: StoreUnderTest, name: str, connections: int, found: Series) -> Row:
    windows, floors = found.windows, found.floors
    cpu = [w.server_cpu_ms for w in windows]
    rps = [w.load.rps for w in windows]
    figures = {
        "rps": Spread(rps),
        "p50_ms": Spread([w.load.p50_ms for w in windows]),
        "p99_ms": Spread([w.load.p99_ms for w in windows]),
        "cpu_ms": Spread(cpu),
        "cpu_vs_floor": _ratios(cpu, [w.server_cpu_ms for w in floors]),
        "rps_vs_floor": _ratios(rps, [w.load.rps for w in floors]),
        "failed": Spread([float(w.load.failed) for w in windows]),
    }
    if store.pid is not None:
        figures["store_cpu_ms"] = Spread([w.store_cpu_ms for w in windows])
    commands = [w.commands_per_request for w in windows if w.commands is not None]
    if commands:
        figures["commands"] = Spread(commands)
    return Row({"store": store.label, "op": name, "connections": connections}, figures)


def _by_command(found: list[Window]) -> dict[str, float]:
    """Commands per request by name, medians over the rounds (for the JSON)."""
    names = {name for w in found if w.commands for name in w.commands}
    return {
        name: statistics.median(
            (w.commands[name] if w.commands else 0) / w.load.served
            for w in found
            if w.load.completed
        )
        for name in sorted(names)
    }


async def request_path_cost(plan: Plan) -> Table:
    table = Table(
        key="request_cost",
        title=f"3. Request path cost vs the framework floor (BCRYPT_ROUNDS={CELL_BCRYPT_ROUNDS})",
        label_headers={"store": "Store", "op": "Operation", "connections": "connections"},
        metrics=[
            Metric("cpu_ms", "server CPU ms/request", 3),
            Metric("cpu_vs_floor", f"CPU {TIMES} floor", 2),
            Metric("rps", "req/s", 0),
            Metric("rps_vs_floor", f"req/s {TIMES} floor", 2),
            Metric("p50_ms", "p50 ms", 2),
            Metric("p99_ms", "p99 ms", 2),
            Metric("commands", "DB commands/request", 2),
            Metric("store_cpu_ms", "stand-in CPU ms/request", 3),
            Metric("failed", "failed", 0),
        ],
    )
    by_command: dict[str, dict[str, float]] = {}
    refusals: dict[str, str] = {}
    access_lines = 0
    for kind in plan.stores:
        async with opened(kind, plan.mongo_uri) as store:
            say(f"  cells on {store.label} ...")
            result = await _store_rows(store, plan)
        table.rows += result.rows
        by_command.update(result.by_command)
        refusals.update(result.refusals)
        access_lines += result.access_lines
    table.notes += [
        f"Each cell: {plan.cell_rounds} rounds of {plan.cell_seconds} s closed-loop load at "
        f"{plan.cell_connections} connections (rename: 1), each right after a floor run of the "
        "same kind at the same concurrency: the read floor is one `find_one` on a uniquely "
        "indexed field, the write floor one `insert_one` of a small JSON body; the "
        f"{TIMES} floor columns are medians of the per-round ratios.",
        "Server CPU is user + system time of the server process (every thread) from "
        "`/proc/<pid>/stat`, read before the load and again once the server has gone quiet "
        "after it, divided by the requests it served (the responses, plus the one request "
        "per connection wrk leaves in flight when it stops, which the server finishes all the "
        "same). The stand-in's CPU is read the same way from its process.",
        "DB commands/request: the service's own count of the MongoDB commands it sent "
        "(`/metrics`, by the driver's command monitoring) over the window, less what the "
        "scrapes send themselves, divided the same way; on the in-memory store nothing goes "
        "through the driver, so n/a.",
        f"The service runs with BCRYPT_ROUNDS={CELL_BCRYPT_ROUNDS} here (login, sign-up and "
        "the rename's step-up check each hash once), sign-up and member limits off "
        "(SIGNUP_PER_ADDRESS_PER_HOUR=0, SIGNUP_TOTAL_PER_HOUR=0, PLAN_MEMBER_LIMITS all 0), "
        "login throttling at its highest limits, and no background work "
        "(RECOVERY_INTERVAL_SECONDS=0, CAPACITY_REFRESH_SECONDS=0). Sign-ups, invitations "
        "and renames use names unique per request (a counter in the wrk script).",
        "The floor apps open no command listener and run no logging set-up; the service's "
        "driver reports every command to its metrics, which is part of what it costs.",
    ]
    if access_lines:
        table.notes.append(
            f"The service wrote {access_lines:,} uvicorn access-log lines to stderr during this "
            "scenario although it is started with `--no-access-log`: its logging set-up "
            "(`app.observability.logs.configure_logging`) makes `uvicorn.access` propagate to "
            "the root handler, and uvicorn then logs every request. That formatting and "
            "writing is part of each service figure here; the floors do not pay it."
        )
    table.notes += [
        f"Failures in {name}: one request sent after the rounds was answered `{answer}`."
        for name, answer in refusals.items()
    ]
    table.extra["commands_per_request_by_name"] = by_command
    table.extra["failures"] = refusals
    return table
