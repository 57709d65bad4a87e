"""Stopping the server lets requests already in flight finish."""

import asyncio
import secrets

import httpx
from pydantic import SecretStr

from app.config import ExplicitSettings
from app.factory import create_app
from tests.live import serving
from tests.support import EMAIL, PASSWORD


async def test_in_flight_requests_finish_during_shutdown() -> None:
    # A real bcrypt cost keeps the login in flight long enough to shut down under it.
    settings = ExplicitSettings(
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=13,
        password_hash_workers=1,
        recovery_interval_seconds=0,
    )
    with serving(create_app(settings), timeout_graceful_shutdown=30) as (url, server):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            created = await client.post(
                "/org/create",
                json={"organization_name": "Slow Corp", "email": EMAIL, "password": PASSWORD},
            )
            assert created.status_code == 201
            login = asyncio.create_task(
                client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})
            )
            while not server.server_state.tasks:  # noqa: ASYNC110 - the server has its own thread
                await asyncio.sleep(0.01)

            server.should_exit = True
            response = await login

    assert response.status_code == 200
    assert response.json()["access_token"]
