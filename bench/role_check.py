"""`python -m bench.role_check [N] [ROUNDS]`: what custom roles cost the permission check.

An authenticated document read, in process on the in-memory store (as `bench.request_cpu`),
in two services side by side: one whose organization has no custom role, one whose
organization has 50 (`CUSTOM_ROLES_PER_ORGANIZATION`'s default). Each is read by its owner (a
built-in role), and in the second also by a member and an API key holding one of the custom
roles, whose definition the token's check joins. Rounds are interleaved so that the machine's
drift falls on every cell alike; the figure is the median round's CPU microseconds per
request. (The database commands per request, one for the check whatever the role, are
asserted by `tests/db/test_commands_per_request.py`.)

The in-memory store scans the joined collection where a real server reads one `_id` index
entry, so the custom-role cells here are an upper bound of the join's CPU cost.
"""

import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import bcrypt
import httpx
from bson import ObjectId

from app.access.permissions import Permission
from app.accounts.memberships import MembershipRepository
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.workspaces.access import WorkspaceAccess
from app.workspaces.models import WorkspaceRole
from bench.in_process import Service, memory_settings, running_service

WARM_UP = 50
CUSTOM_ROLES = 50
PASSWORD = "BenchPassword-2026!"  # noqa: S105 - a throwaway account in memory
Call = Callable[[], Awaitable[httpx.Response]]
# Member-class permission sets, varied so that no two roles are alike.
_GRANTABLE = [
    Permission.READ_ORGANIZATION,
    Permission.READ_BILLING,
    Permission.EDIT_BILLING,
    Permission.WRITE_TENANT_DOCUMENTS,
    Permission.READ_AUDIT_LOG,
    Permission.READ_EVENTS,
]


def _role(number: int) -> dict[str, object]:
    chosen = [p.value for bit, p in enumerate(_GRANTABLE) if number >> bit & 1]
    return {
        "slug": f"role-{number:02d}",
        "name": f"Role {number}",
        "permissions": sorted({Permission.READ_TENANT_DOCUMENTS.value, *chosen}),
    }


async def _holder(service: Service, organization_id: str, role: str) -> dict[str, str]:
    """A member holding `role`, and their token."""
    email = f"holder-{role}@bench.example"
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    account = Account(ObjectId(), email, hashed, ObjectId(organization_id), datetime.now(UTC))
    await AccountRepository(service.store).insert(account)
    await MembershipRepository(service.store).add(account.id, ObjectId(organization_id), role)
    workspaces = WorkspaceAccess(service.store)
    default = await workspaces.workspaces.ensure_default(ObjectId(organization_id))
    await workspaces.members.put(
        ObjectId(organization_id), default.id, account.id, WorkspaceRole.VIEWER
    )
    return await _login(service.client, email)


async def _login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    answer = await client.post("/admin/login", json={"email": email, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@asynccontextmanager
async def _organization(roles: int) -> AsyncIterator[dict[str, Call]]:
    """A service whose one organization defines `roles` custom roles; its calls by name."""
    # Every permission check a key makes is counted too: no rate limit here.
    settings = memory_settings(api_key_requests_per_minute=0)
    async with running_service(settings, request_timeout=30) as service:
        client = service.client
        signed_up = await client.post(
            "/org/create",
            json={"organization_name": "Bench Org", "email": "a@b.com", "password": PASSWORD},
        )
        org = signed_up.json()["id"]
        owner = await _login(client, "a@b.com")
        base = f"/api/v1/organizations/{org}"
        for number in range(roles):
            (
                await client.post(f"{base}/roles", json=_role(number), headers=owner)
            ).raise_for_status()
        document = (await client.post(f"{base}/documents", json={"x": 1}, headers=owner)).json()
        path = f"{base}/documents/{document['id']}"
        calls: dict[str, Call] = {"owner": lambda: client.get(path, headers=owner)}
        if roles:
            last = _role(roles - 1)["slug"]
            holder = await _holder(service, org, str(last))
            key = await client.post(
                f"{base}/api-keys", json={"name": "bench", "role": last}, headers=owner
            )
            keyed = {"Authorization": f"Bearer {key.json()['secret']}"}
            calls["custom_member"] = lambda: client.get(path, headers=holder)
            calls["custom_key"] = lambda: client.get(path, headers=keyed)
        for call in calls.values():
            for _ in range(WARM_UP):
                (await call()).raise_for_status()
        yield calls


async def _round(call: Call, n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        (await call()).raise_for_status()
    return (time.process_time() - started) / n * 1e6


async def measure(n: int, rounds: int) -> dict[str, float]:
    async with AsyncExitStack() as stack:
        cells = {
            f"{name}_{roles}_roles": call
            for roles in (0, CUSTOM_ROLES)
            for name, call in (await stack.enter_async_context(_organization(roles))).items()
        }
        taken: dict[str, list[float]] = {name: [] for name in cells}
        for _ in range(rounds):
            for name, call in cells.items():
                taken[name].append(await _round(call, n))
        return {f"{name}_us": round(statistics.median(t), 1) for name, t in taken.items()}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    sys.stdout.write(json.dumps(asyncio.run(measure(n, rounds)), indent=2) + "\n")
