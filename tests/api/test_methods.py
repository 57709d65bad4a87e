"""`Allow` names every method of a path: on a 405 for any method, and on OPTIONS (RFC 9110
§15.5.6 and §9.3.7), while CORS preflights stay the CORS middleware's."""

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.support import bearer, created_org, login

ORGANIZATION = "GET, PATCH, DELETE, OPTIONS"  # /api/v1/organizations/{org_id}
MEMBER = "GET, PATCH, DELETE, OPTIONS"  # /api/v1/organizations/{org_id}/members/{account_id}


@pytest.mark.parametrize("method", ["PUT", "POST"])
async def test_a_405_names_every_method_of_the_path(client: AsyncClient, method: str) -> None:
    org = (await created_org(client))["id"]
    token = await login(client)
    me = (await client.get("/admin/me", headers=bearer(token))).json()["admin_id"]

    organization = await client.request(
        method, f"/api/v1/organizations/{org}", headers=bearer(token)
    )
    member = await client.request(
        method, f"/api/v1/organizations/{org}/members/{me}", headers=bearer(token)
    )
    contract = await client.request(method, "/org/get")

    assert (organization.status_code, organization.headers["allow"]) == (405, ORGANIZATION)
    assert organization.json()["code"] == "method_not_allowed"
    assert (member.status_code, member.headers["allow"]) == (405, MEMBER)
    assert (contract.status_code, contract.headers["allow"]) == (405, "GET, OPTIONS")
    assert contract.json() == {"detail": "Method Not Allowed"}


async def test_options_answers_204_with_every_method(client: AsyncClient) -> None:
    org = (await created_org(client))["id"]

    response = await client.options(f"/api/v1/organizations/{org}")
    missing = await client.options("/nowhere")

    assert response.status_code == 204
    assert response.headers["allow"] == ORGANIZATION
    assert response.content == b""
    assert missing.status_code == 404


async def test_a_preflight_is_answered_by_cors(settings: Settings, store: Store) -> None:
    origin = "https://app.example.com"
    configured = settings.model_copy(update={"cors_origins": origin})
    app = create_app(configured, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://t") as client,
    ):
        preflight = await client.options(
            "/api/v1/organizations/6650c0d2f1a4b8e9c3d2a1af",
            headers={"Origin": origin, "Access-Control-Request-Method": "PATCH"},
        )
        plain = await client.options(
            "/api/v1/organizations/6650c0d2f1a4b8e9c3d2a1af", headers={"Origin": origin}
        )

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    assert (plain.status_code, plain.headers["allow"]) == (204, ORGANIZATION)
    assert plain.headers["access-control-allow-origin"] == origin
