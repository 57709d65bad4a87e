"""Looking for the TXT record that proves a domain, without blocking the event loop.

The record is `_tenantry-challenge.<domain>` with the value `tenantry-verification=<token>`.
A check answers one of three ways: found; definitively absent (the name does not exist, has
no TXT record, or none with the token), which makes a verified domain lose its status; or
inconclusive (a timeout, a failing server), which changes nothing but is reported.
"""

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver

CHALLENGE_LABEL = "_tenantry-challenge"
VALUE_PREFIX = "tenantry-verification="


def record_name(domain: str) -> str:
    return f"{CHALLENGE_LABEL}.{domain}"


def record_value(token: str) -> str:
    return f"{VALUE_PREFIX}{token}"


class Outcome(StrEnum):
    FOUND = "found"
    ABSENT = "absent"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: Outcome
    reason: str | None = None

    @property
    def found(self) -> bool:
        return self.outcome is Outcome.FOUND


@dataclass(frozen=True, slots=True)
class Nameserver:
    host: str
    port: int = 53


def parse_nameserver(value: str) -> Nameserver:
    """`192.0.2.1`, `192.0.2.1:5353`, `[2001:db8::1]:53` or `2001:db8::1`."""
    text = value.strip()
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = int(rest.removeprefix(":"))
    elif text.count(":") == 1:
        host, _, raw_port = text.partition(":")
        port = int(raw_port)
    ipaddress.ip_address(host)  # a resolver is named by its address
    if not 0 < port < 65536:
        raise ValueError(f"port {port} out of range")
    return Nameserver(host, port)


class TxtChecker:
    def __init__(self, nameservers: list[Nameserver], timeout: float) -> None:
        self._nameservers = nameservers
        self._timeout = timeout

    def _resolver(self) -> dns.asyncresolver.Resolver:
        resolver = dns.asyncresolver.Resolver(configure=not self._nameservers)
        if self._nameservers:
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(server.host, server.port)
                for server in self._nameservers
            ]
        resolver.timeout = self._timeout
        resolver.lifetime = self._timeout
        return resolver

    async def check(self, domain: str, token: str) -> CheckResult:
        name = record_name(domain)
        expected = record_value(token)
        try:
            answer = await self._resolver().resolve(name, "TXT", search=False)
        except dns.resolver.NXDOMAIN:
            return CheckResult(Outcome.ABSENT, f"{name} does not exist in DNS")
        except dns.resolver.NoAnswer:
            return CheckResult(Outcome.ABSENT, f"{name} has no TXT record")
        except dns.exception.Timeout:
            return CheckResult(Outcome.INCONCLUSIVE, f"DNS did not answer for {name} in time")
        except dns.resolver.NoNameservers:
            return CheckResult(Outcome.INCONCLUSIVE, f"no DNS server could answer for {name}")
        except dns.exception.DNSException as failure:
            return CheckResult(
                Outcome.INCONCLUSIVE, f"DNS lookup of {name} failed ({type(failure).__name__})"
            )
        values = [
            b"".join(record.strings).decode("utf-8", errors="replace")
            for record in answer
            if hasattr(record, "strings")
        ]
        if expected in values:
            return CheckResult(Outcome.FOUND)
        return CheckResult(Outcome.ABSENT, f"no TXT record of {name} has the value {expected!r}")
