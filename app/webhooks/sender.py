"""One HTTP attempt: to the checked address, with a timeout, no redirect followed, and no
more of the answer read than its excerpt needs."""

import time

import anyio
import httpx

from app.webhooks.models import Outcome
from app.webhooks.targets import TargetPolicy, TargetRefused, resolve

EXCERPT_CHARACTERS = 500


class Sender:
    def __init__(self, policy: TargetPolicy, timeout_seconds: float, max_bytes: int) -> None:
        self._policy = policy
        self._timeout = timeout_seconds
        self._max_bytes = max_bytes
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the address checked is the one used
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def send(self, url: str, body: str, headers: dict[str, str]) -> Outcome:
        started = time.perf_counter()

        def elapsed() -> float:
            return round((time.perf_counter() - started) * 1000, 1)

        try:
            target = await resolve(url, self._policy)
        except TargetRefused as refused:
            return Outcome(None, elapsed(), error=f"refused: {refused}")
        request = self._client.build_request(
            "POST",
            target.url,
            content=body.encode(),
            headers={**headers, "host": target.host_header},
            extensions={"sni_hostname": target.host, "timeout": self._timeout_extension()},
        )
        try:
            # One deadline for the whole attempt: a server that answers a byte at a time
            # never trips the per-read timeout.
            with anyio.fail_after(self._timeout):
                response = await self._client.send(request, stream=True)
                try:
                    excerpt = await self._read_capped(response)
                finally:
                    await response.aclose()
        except (httpx.TimeoutException, TimeoutError):
            return Outcome(None, elapsed(), error=f"no answer within {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return Outcome(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:200])
        error = None
        if 300 <= response.status_code < 400:
            error = "redirects are not followed"
        return Outcome(response.status_code, elapsed(), excerpt, error)

    def _timeout_extension(self) -> dict[str, float]:
        return dict.fromkeys(("connect", "read", "write", "pool"), self._timeout)

    async def _read_capped(self, response: httpx.Response) -> str:
        read = bytearray()
        async for chunk in response.aiter_raw():
            read.extend(chunk)
            if len(read) >= self._max_bytes:
                break
        return read[: self._max_bytes].decode("utf-8", "replace")[:EXCERPT_CHARACTERS]

    async def close(self) -> None:
        await self._client.aclose()
