"""Schemathesis drives every operation of the published OpenAPI schema against a running server
(real sockets, uvicorn) with generated input: no answer may be a 5xx, and every answer must
match the schema the documentation promises."""

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.config import ExplicitSettings
from app.factory import create_app
from tests.live import serving


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    app = create_app(
        ExplicitSettings(
            secret_key=SecretStr(secrets.token_urlsafe(48)),
            bcrypt_rounds=4,
            recovery_interval_seconds=0,
        )
    )
    with serving(app) as (url, _):
        yield url


@pytest.fixture(scope="module")
def token(live_server: str) -> str:
    """A real organization's token, so protected operations get past authentication."""
    credentials = {"email": "fuzz@example.com", "password": "FuzzPassword123"}
    httpx.post(f"{live_server}/org/create", json={"organization_name": "Fuzz Org", **credentials})
    response = httpx.post(f"{live_server}/admin/login", json=credentials)
    token: str = response.json()["access_token"]
    return token


def test_no_server_errors_and_responses_match_the_schema(live_server: str, token: str) -> None:
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{live_server}/openapi.json",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--max-examples",
        "40",
        "--seed",
        "20261122",
        "--header",
        f"Authorization: Bearer {token}",
    ]

    result = subprocess.run(  # noqa: S603 - our own test tool, fixed arguments
        command, capture_output=True, text=True, timeout=600, check=False
    )

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
