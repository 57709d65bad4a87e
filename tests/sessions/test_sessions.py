import jwt
from httpx import AsyncClient

from app.config import ExplicitSettings, Settings
from tests.support import bearer, created_org, login, rename


async def test_logout_revokes_only_that_token(client: AsyncClient) -> None:
    await created_org(client)
    first, second = await login(client), await login(client)

    response = await client.post("/admin/logout", headers=bearer(first))

    assert response.status_code == 200
    refused = await rename(client, first, "After Logout")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Token has been revoked"}
    assert (await rename(client, second, "Still Signed In")).status_code == 200


async def test_logout_everywhere_revokes_every_earlier_token(client: AsyncClient) -> None:
    await created_org(client)
    tokens = [await login(client) for _ in range(3)]

    assert (await client.post("/admin/logout-all", headers=bearer(tokens[0]))).status_code == 200

    assert [(await rename(client, t, "Nope")).status_code for t in tokens] == [401] * 3
    assert (await rename(client, await login(client), "Fresh Login")).status_code == 200


async def test_logout_needs_a_valid_token(client: AsyncClient) -> None:
    assert (await client.post("/admin/logout")).status_code == 401
    assert (await client.post("/admin/logout", headers=bearer("junk"))).status_code == 401


async def test_tokens_name_their_signing_key(client: AsyncClient, settings: Settings) -> None:
    await created_org(client)

    header = jwt.get_unverified_header(await login(client))

    assert header["alg"] == settings.algorithm
    assert len(header["kid"]) == 16
    assert settings.secret_key.get_secret_value() not in header["kid"]


def test_previous_keys_must_be_strong() -> None:
    import pytest
    from pydantic import SecretStr, ValidationError

    with pytest.raises(ValidationError, match="PREVIOUS_SECRET_KEYS"):
        ExplicitSettings(previous_secret_keys=[SecretStr("short")])


async def test_me_describes_the_caller(client: AsyncClient) -> None:
    created = await created_org(client)

    response = await client.get("/admin/me", headers=bearer(await login(client)))

    assert response.status_code == 200
    body = response.json()
    assert body["org_id"] == created["id"]
    assert body["email"] == created["admin_email"]
    assert body["role"] == "owner"
    assert (await client.get("/admin/me")).status_code == 401
