"""A webhook receiver on loopback: a small ASGI app served by uvicorn on a free port.

Each path behaves as its name says (`/ok`, `/fail-once`, `/always-500`, `/slow-once`,
`/slow`, `/redirect`); every request is kept, with its headers and body, in arrival order.
"""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

SLOW_SECONDS = 1.5


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    in_flight: int = 0
    most_at_once: int = 0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.calls[path] += 1
        self.received.append(Received(path, headers, b"".join(chunks)))
        self.in_flight += 1
        self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            status, extra = await self._answer(path, self.calls[path])
        finally:
            self.in_flight -= 1
        await send({"type": "http.response.start", "status": status, "headers": extra})
        await send({"type": "http.response.body", "body": b"received " + path.encode() * 50})

    async def _answer(self, path: str, call: int) -> tuple[int, list[tuple[bytes, bytes]]]:
        if (path == "/fail-once" and call == 1) or path == "/always-500":
            return 500, []
        if path == "/slow-once" and call == 1:
            await asyncio.sleep(SLOW_SECONDS)
        if path == "/slow":
            await asyncio.sleep(0.2)
        if path == "/redirect":
            return 307, [(b"location", self.url("/ok").encode())]
        return 200, []


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    config = uvicorn.Config(
        receiver, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    receiver.port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
