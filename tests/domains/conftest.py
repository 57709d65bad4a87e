"""Domain tests run against the DNS server of `dns_server.py` on loopback, on a store that
yields before each database call so that concurrent requests interleave."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app import factory
from app.accounts.repository import AccountRepository
from app.api.state import txt_checker
from app.audit.trail import AuditTrail
from app.config import Settings
from app.db.store import Store
from app.domains.repository import DomainRepository
from app.domains.service import DomainService
from app.operations.outbox import build_outbox
from app.registry.repository import OrganizationRepository
from tests.conftest import borrowed
from tests.domains.dns_server import Zone, serving
from tests.members.test_last_owner import interleaving
from tests.outbox import Outbox
from tests.support import EMAIL, bearer, created_org, login


@pytest.fixture
def dns() -> Iterator[tuple[Zone, int]]:
    with serving() as served:
        yield served


@pytest.fixture
def zone(dns: tuple[Zone, int]) -> Zone:
    return dns[0]


@pytest.fixture
def settings(settings: Settings, dns: tuple[Zone, int]) -> Settings:
    return settings.model_copy(
        update={
            "dns_nameservers": [f"127.0.0.1:{dns[1]}"],
            "dns_timeout_seconds": 2.0,
            # The tests run the re-verification sweep themselves.
            "domain_recheck_interval_seconds": 0,
        }
    )


@pytest.fixture
def app(settings: Settings, store: Store, outbox: Outbox) -> FastAPI:
    return factory.create_app(settings, store_opener=lambda _: interleaving(borrowed(store)))


@pytest.fixture
def checks(settings: Settings, store: Store) -> DomainService:
    """The re-verification sweep as another instance of the service runs it."""
    return DomainService(
        DomainRepository(store),
        OrganizationRepository(store),
        txt_checker(settings),
        build_outbox(settings, store),
        AuditTrail(store),
    )


@dataclass(frozen=True, slots=True)
class Org:
    id: str
    owner: dict[str, str]

    @property
    def domains(self) -> str:
        return f"/api/v1/organizations/{self.id}/domains"

    @property
    def requests(self) -> str:
        return f"/api/v1/organizations/{self.id}/join-requests"


async def organization(
    client: AsyncClient, name: str = "Tech Innovations Corp", email: str = EMAIL
) -> Org:
    created = await created_org(client, name, email)
    return Org(created["id"], bearer(await login(client, email)))


async def add_domain(client: AsyncClient, org: Org, domain: str = "techcorp.com") -> Response:
    return await client.post(org.domains, json={"domain": domain}, headers=org.owner)


async def added(client: AsyncClient, org: Org, domain: str = "techcorp.com") -> dict[str, Any]:
    response = await add_domain(client, org, domain)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def publish(zone: Zone, domain: dict[str, Any]) -> None:
    """Publish the TXT record the domain's answer asks for."""
    zone.publish(domain["record"]["name"], domain["record"]["value"])


async def verify(client: AsyncClient, org: Org, domain_id: str) -> Response:
    return await client.post(f"{org.domains}/{domain_id}/verify", headers=org.owner)


async def verified_domain(
    client: AsyncClient, zone: Zone, org: Org, domain: str = "techcorp.com", **policy: str
) -> dict[str, Any]:
    """A domain added, its record published, verified, and given `policy` (if any)."""
    body = await added(client, org, domain)
    publish(zone, body)
    response = await verify(client, org, body["id"])
    assert response.status_code == 200, response.text
    if policy:
        changed = await client.patch(f"{org.domains}/{body['id']}", json=policy, headers=org.owner)
        assert changed.status_code == 200, changed.text
        return dict(changed.json())
    return dict(response.json())


async def verify_email(store: Store, account_email: str) -> None:
    """As following a verification link does."""
    accounts = AccountRepository(store)
    account = await accounts.find_by_email(account_email)
    assert account is not None
    assert await accounts.mark_email_verified(account.id, account.email, datetime.now(UTC))


async def person(
    client: AsyncClient, store: Store, email: str, *, verified: bool = True
) -> dict[str, str]:
    """Someone at the domain with an organization of their own, signed in."""
    await created_org(client, f"Home of {email}", email)
    if verified:
        await verify_email(store, email)
    return bearer(await login(client, email))
