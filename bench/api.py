"""The few Tenantry calls the scenarios make, as request factories for the load generator."""

from dataclasses import dataclass
from typing import Any

import httpx

from bench.load import Send

PASSWORD = "BenchPassword-2026!"  # noqa: S105 - the throwaway benchmark accounts' password


@dataclass(frozen=True)
class Account:
    organization_name: str
    email: str
    tenant_collection: str
    token: str = ""


def email_for(tag: str, number: int) -> str:
    return f"owner-{tag}-{number}@bench.example.com"


def org_name_for(tag: str, number: int) -> str:
    return f"Bench Org {tag} {number}"


def _checked(response: httpx.Response, expected: int) -> dict[str, Any]:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, expected {expected}: {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


async def sign_up(client: httpx.AsyncClient, name: str, email: str) -> Account:
    """Create an organization and log its owner in."""
    created = _checked(
        await client.post(
            "/org/create",
            json={"organization_name": name, "email": email, "password": PASSWORD},
        ),
        201,
    )
    token = _checked(
        await client.post("/admin/login", json={"email": email, "password": PASSWORD}), 200
    )["access_token"]
    return Account(name, email, created["tenant_collection"], token)


async def rename(client: httpx.AsyncClient, account: Account, new_name: str) -> dict[str, Any]:
    return _checked(
        await client.put(
            "/org/update",
            json={"organization_name": new_name, "email": account.email, "password": PASSWORD},
            headers={"Authorization": f"Bearer {account.token}"},
        ),
        200,
    )


def health() -> Send:
    async def send(client: httpx.AsyncClient, _: int) -> httpx.Response:
        return await client.get("/health")

    return send


def get_org(name: str) -> Send:
    async def send(client: httpx.AsyncClient, _: int) -> httpx.Response:
        return await client.get("/org/get", params={"organization_name": name})

    return send


def get_any_org(names: list[str]) -> Send:
    async def send(client: httpx.AsyncClient, number: int) -> httpx.Response:
        return await client.get(
            "/org/get", params={"organization_name": names[number % len(names)]}
        )

    return send


def me(token: str) -> Send:
    async def send(client: httpx.AsyncClient, _: int) -> httpx.Response:
        return await client.get("/admin/me", headers={"Authorization": f"Bearer {token}"})

    return send


def login(email: str) -> Send:
    async def send(client: httpx.AsyncClient, _: int) -> httpx.Response:
        return await client.post("/admin/login", json={"email": email, "password": PASSWORD})

    return send


def create_org(tag: str) -> Send:
    """Sign-ups with names and emails unique per sequence number."""

    async def send(client: httpx.AsyncClient, number: int) -> httpx.Response:
        return await client.post(
            "/org/create",
            json={
                "organization_name": org_name_for(tag, number),
                "email": email_for(tag, number),
                "password": PASSWORD,
            },
        )

    return send
