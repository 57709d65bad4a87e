"""A real DNS server on loopback (dnslib, UDP) whose TXT records a test edits as it goes."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Zone(BaseResolver):  # type: ignore[misc]
    """Names and their TXT values. A name absent from `txt` does not exist (NXDOMAIN); one
    with an empty list exists without TXT records; a name in `failing` answers SERVFAIL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.txt: dict[str, list[str]] = {}
        self.failing: set[str] = set()
        self.questions: list[str] = []

    def publish(self, name: str, *values: str) -> None:
        with self._lock:
            self.txt[name.lower()] = list(values)

    def remove(self, name: str) -> None:
        with self._lock:
            self.txt.pop(name.lower(), None)

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        with self._lock:
            self.questions.append(name)
            values = self.txt.get(name)
            failing = name in self.failing
        if failing:
            reply.header.rcode = RCODE.SERVFAIL
        elif values is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in values:
                reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(value), ttl=0))
        return reply


@contextmanager
def serving() -> Iterator[tuple[Zone, int]]:
    """A zone served on 127.0.0.1 at a free port, for as long as the block runs."""
    zone = Zone()
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=DNSLogger("-request,-reply"))
    port: int = server.server.server_address[1]
    server.start_thread()
    try:
        yield zone, port
    finally:
        server.stop()
        server.server.server_close()
        server.thread.join(5)
