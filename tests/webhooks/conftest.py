"""An app whose webhooks may reach loopback, a receiver there, and workers driven by hand
on a clock the test moves."""

import dataclasses
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.api.state import Services, webhook_policy, worker_limits
from app.config import Settings
from app.db.store import Store
from app.events.repository import EventRepository
from app.webhooks.repository import DeliveryRepository, EndpointRepository
from app.webhooks.secrets import SecretBox
from app.webhooks.sender import Sender
from app.webhooks.targets import TargetPolicy
from app.webhooks.worker import DeliveryWorker
from tests.conftest import _conventions
from tests.support import bearer, created_org, login
from tests.webhooks.receiver import Receiver, receiving


@dataclass
class Clock:
    # A minute ahead of the service's own clock, so what the API queues is due at once.
    now: datetime = field(default_factory=lambda: datetime.now(UTC) + timedelta(minutes=1))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "environment": "development",
            "webhook_allow_private_targets": True,
            "webhook_timeout_seconds": 0.5,
        }
    )


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as receiver:
        yield receiver


@dataclass
class Hooks:
    """The app's client and services, and a way to make delivery workers like its own."""

    client: AsyncClient
    services: Services
    store: Store
    settings: Settings
    clock: Clock
    org_id: str = ""
    token: str = ""
    workers: list[DeliveryWorker] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/api/v1/organizations/{self.org_id}/webhooks"

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.token)

    def worker(self, policy: TargetPolicy | None = None, **limits: Any) -> DeliveryWorker:
        """A worker of another instance sharing the database (own lease owner)."""
        settings = self.settings
        base = worker_limits(settings)
        worker = DeliveryWorker(
            EventRepository(self.store),
            EndpointRepository(self.store),
            DeliveryRepository(self.store, timedelta(days=1)),
            Sender(
                policy or webhook_policy(settings),
                settings.webhook_timeout_seconds,
                settings.webhook_response_max_bytes,
            ),
            SecretBox(settings.signing_keys()),
            self.services.outbox,
            dataclasses.replace(base, **limits),
            metrics=self.services.metrics,
            clock=self.clock,
            rng=random.Random(7),  # noqa: S311 - jitter, reproducible
        )
        self.workers.append(worker)
        return worker

    async def endpoint(self, url: str, **fields: Any) -> dict[str, Any]:
        response = await self.client.post(self.path, json={"url": url, **fields}, headers=self.auth)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def change(self, n: int = 0) -> None:
        response = await self.client.patch(
            f"/api/v1/organizations/{self.org_id}",
            json={"description": f"change {n}"},
            headers=self.auth,
        )
        assert response.status_code == 200, response.text

    async def attempts(self, endpoint_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"{self.path}/{endpoint_id}/attempts", headers=self.auth)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


@pytest.fixture
async def hooks(app: FastAPI, store: Store, settings: Settings) -> AsyncIterator[Hooks]:
    conventions = _conventions(app)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(app=manager.app),
            base_url="http://test",
            event_hooks={"response": [conventions.check]},
        ) as client,
    ):
        services: Services = manager._state["services"]
        world = Hooks(client, services, store, settings, Clock())
        org = await created_org(client)
        world.org_id = org["id"]
        world.token = await login(client)
        try:
            yield world
        finally:
            for worker in world.workers:
                await worker.close()
