"""`python -m bench.request_cpu [N]`: CPU time per request of four common calls, in process.

The service runs inside this process on the in-memory store, driven over ASGI, so the figure
is the service's own work per request (plus httpx's), with no network or server in it. Run it
from two checkouts in turn, a few rounds interleaved, and compare ratios: one machine's
absolute figures say little about another's.
"""

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.in_process import memory_settings, running_service

WARM_UP = 50
PASSWORD = "BenchPassword-2026!"  # noqa: S105 - a throwaway account in memory


async def _per_request(call: Callable[[], Awaitable[httpx.Response]], n: int) -> float:
    for _ in range(WARM_UP):
        (await call()).raise_for_status()
    started = time.process_time()
    for _ in range(n):
        await call()
    return (time.process_time() - started) / n * 1e6


async def measure(n: int) -> dict[str, float]:
    async with running_service(memory_settings(), request_timeout=30) as service:
        client = service.client
        signed_up = await client.post(
            "/org/create",
            json={"organization_name": "Bench Org", "email": "a@b.com", "password": PASSWORD},
        )
        org = signed_up.json()["id"]
        login = await client.post("/admin/login", json={"email": "a@b.com", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        documents = f"/api/v1/organizations/{org}/documents"
        document = (await client.post(documents, json={"x": 1}, headers=auth)).json()["id"]
        calls: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
            "organization_read_us": lambda: client.get(
                f"/api/v1/organizations/{org}", headers=auth
            ),
            "document_read_us": lambda: client.get(f"{documents}/{document}", headers=auth),
            "document_create_us": lambda: client.post(
                documents, json={"title": "t", "n": 3}, headers=auth
            ),
            "members_list_us": lambda: client.get(
                f"/api/v1/organizations/{org}/members", headers=auth
            ),
        }
        return {name: round(await _per_request(call, n), 1) for name, call in calls.items()}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    sys.stdout.write(json.dumps(asyncio.run(measure(n))) + "\n")
