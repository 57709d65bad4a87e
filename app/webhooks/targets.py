"""Where a webhook may be sent: the SSRF guard.

A URL's host is resolved once, every address it resolves to is checked, and the request is
then made to the checked address itself (the URL's host goes in the `Host` header and in TLS
SNI and certificate checks), so a name that resolves to a public address when checked and to
a private one when connected (DNS rebinding) cannot reach inside. Refused unless
`WEBHOOK_ALLOW_PRIVATE_TARGETS`: any address that is not globally routable (loopback, RFC 1918
and unique-local, link-local with the cloud metadata addresses, CGNAT, multicast, reserved,
unspecified), IPv4-mapped IPv6 judged as its IPv4. `https` is required unless
`ENVIRONMENT=development`.
"""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.errors import InvalidInput

URL_LOCATION = ("body", "url")
MAX_URL_LENGTH = 2048
# Reached through link-local or private ranges already; named so the refusal says so.
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not be called; the message says why (kept for the attempt log)."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    address: str
    path: str

    @property
    def url(self) -> str:
        """The URL to connect to: the checked address in place of the name."""
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allow_private: bool
    allow_http: bool


def check_url(url: str, policy: TargetPolicy) -> None:
    """Refuse at registration what can never be called (scheme, shape, a literal address)."""
    try:
        _parts(url, policy)
        host = urlsplit(url).hostname or ""
        literal = _literal(host)
        if literal is not None:
            _check_address(literal, policy)
    except TargetRefused as refused:
        raise InvalidInput(URL_LOCATION, str(refused)) from None


def _parts(url: str, policy: TargetPolicy) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("not a URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise TargetRefused("the URL must be https")
    if scheme == "http" and not policy.allow_http:
        raise TargetRefused("the URL must be https")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("the URL may not carry credentials")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _check_address(address: Address, policy: TargetPolicy) -> None:
    if policy.allow_private:
        return
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        raise TargetRefused(f"{address} is a cloud metadata address")
    if not address.is_global or address.is_multicast:
        raise TargetRefused(f"{address} is not a public address")


async def resolve(url: str, policy: TargetPolicy) -> Target:
    """The address to connect to for `url`, every one the name resolves to checked."""
    scheme, host, port, path = _parts(url, policy)
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise TargetRefused(f"{host} does not resolve ({exc.strerror or exc})") from None
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            raise TargetRefused(f"{host} does not resolve")
    for address in addresses:
        _check_address(address, policy)
    return Target(scheme, host, port, str(addresses[0]), path)
