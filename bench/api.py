"""The Tenantry calls the scenarios make: set-up calls, and requests for the load generator."""

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.loadgen import UNIQUE, Request

PASSWORD = "BenchPassword-2026!"  # noqa: S105 - the throwaway benchmark accounts' password


@dataclass(frozen=True)
class Account:
    organization_name: str
    email: str
    tenant_collection: str
    token: str = ""
    organization_id: str = ""

    @property
    def authorization(self) -> tuple[str, str]:
        return ("Authorization", f"Bearer {self.token}")


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
    return Account(name, email, created["tenant_collection"], token, created["id"])


def documents_path(account: Account) -> str:
    return f"/api/v1/organizations/{account.organization_id}/documents"


async def create_document(client: httpx.AsyncClient, account: Account) -> str:
    """Store one tenant document; its id."""
    created = _checked(
        await client.post(
            documents_path(account),
            json={"title": "Bench document", "status": "open", "n": 1},
            headers=dict([account.authorization]),
        ),
        201,
    )
    document_id: str = created["id"]
    return document_id


async def create_api_key(client: httpx.AsyncClient, account: Account, role: str) -> Account:
    """The same owner's organization as seen through a new API key of `role`."""
    created = _checked(
        await client.post(
            f"/api/v1/organizations/{account.organization_id}/api-keys",
            json={"name": f"bench {role}", "role": role},
            headers=dict([account.authorization]),
        ),
        201,
    )
    return Account(
        account.organization_name,
        account.email,
        account.tenant_collection,
        created["secret"],
        account.organization_id,
    )


async def subscribe(
    client: httpx.AsyncClient, account: Account, url: str, types: list[str]
) -> dict[str, Any]:
    """A webhook endpoint of the account's organization."""
    return _checked(
        await client.post(
            f"/api/v1/organizations/{account.organization_id}/webhooks",
            json={"url": url, "types": types},
            headers=dict([account.authorization]),
        ),
        201,
    )


async def rename(client: httpx.AsyncClient, account: Account, new_name: str) -> dict[str, Any]:
    return _checked(
        await client.put(
            "/org/update",
            json={"organization_name": new_name, "email": account.email, "password": PASSWORD},
            headers={"Authorization": f"Bearer {account.token}"},
        ),
        200,
    )


def _body(fields: dict[str, str]) -> str:
    return json.dumps(fields, separators=(",", ":"))


def health() -> Request:
    return Request("GET", "/health")


def get_org(name: str) -> Request:
    return Request("GET", f"/org/get?{urlencode({'organization_name': name})}")


def login(email: str) -> Request:
    return Request("POST", "/admin/login", _body({"email": email, "password": PASSWORD}))


def sign_up_request() -> Request:
    """Sign-ups with a name and an email unique per request (`{tag}`: the run's own)."""
    return Request(
        "POST",
        "/org/create",
        _body(
            {
                "organization_name": f"Bench Signup {{tag}} {UNIQUE}",
                "email": f"signup-{UNIQUE}-{{tag}}@bench.example.com",
                "password": PASSWORD,
            }
        ),
    )


def rename_request(account: Account) -> Request:
    """Renames of `account`'s organization, to a new name each time."""
    return Request(
        "PUT",
        "/org/update",
        _body(
            {
                "organization_name": f"Bench Rename {{tag}} {UNIQUE}",
                "email": account.email,
                "password": PASSWORD,
            }
        ),
        (account.authorization,),
    )
