"""The page the default invitation link opens, served by the service with what it needs."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from tests.api.test_docs import references
from tests.conftest import borrowed
from tests.invitations.test_invitations import invite, organization
from tests.outbox import Outbox


@pytest.fixture
def app(settings: Settings, store: Store, outbox: Outbox) -> FastAPI:
    """Built after the sender is replaced by the outbox."""
    return create_app(settings, store_opener=lambda _: borrowed(store))


async def test_the_default_link_opens_a_page_that_posts_to_the_accept_endpoint(
    client: AsyncClient, outbox: Outbox, settings: Settings
) -> None:
    org = await organization(client)
    await invite(client, org)
    link = outbox.sent[-1].body.split("Accept the invitation: ")[1].split()[0]
    assert link.startswith("http://127.0.0.1:8000/accept-invitation?token=")

    page = await client.get(link.removeprefix("http://127.0.0.1:8000"))

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    found = references(page.text)
    assert sorted(found) == ["/accept-invitation/page.css", "/accept-invitation/page.js"]
    script = await client.get("/accept-invitation/page.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert '"/api/v1/invitations/accept"' in script.text
    styles = await client.get("/accept-invitation/page.css")
    assert styles.headers["content-type"].startswith("text/css")


async def test_the_page_sends_the_fields_the_accept_endpoint_takes(client: AsyncClient) -> None:
    script = (await client.get("/accept-invitation/page.js")).text
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/invitations/accept"]["post"]
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]

    assert "JSON.stringify({ token, password: form.password.value })" in script
    assert set(schema["properties"]) == {"token", "password"}
    assert schema["required"] == ["token"]
