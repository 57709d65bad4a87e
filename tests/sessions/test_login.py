import asyncio

import bcrypt
import jwt
import pytest
from httpx import AsyncClient

from app.config import Settings
from tests.support import EMAIL, PASSWORD, created_org, field_errors


async def test_login_answers_a_token_for_the_account_and_organization(
    client: AsyncClient, settings: Settings
) -> None:
    created = await created_org(client)

    response = await client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["org_id"] == created["id"]
    assert len(body["admin_id"]) == 24
    assert body["expires_in"] == settings.token_lifetime * 60
    claims = jwt.decode(
        body["access_token"],
        settings.secret_key.get_secret_value(),
        algorithms=[settings.algorithm],
        audience=settings.token_audience,
        issuer=settings.token_issuer,
    )
    assert claims["sub"] == claims["admin_id"] == body["admin_id"]
    assert claims["org_id"] == created["id"]
    assert claims["email"] == EMAIL
    assert claims["exp"] - claims["iat"] == settings.token_lifetime * 60
    assert len(claims["jti"]) >= 16


async def test_email_case_does_not_matter(client: AsyncClient) -> None:
    await created_org(client)

    response = await client.post(
        "/admin/login", json={"email": "Admin@TechCorp.com", "password": PASSWORD}
    )

    assert response.status_code == 200


async def test_each_login_issues_a_distinct_token(client: AsyncClient) -> None:
    await created_org(client)

    responses = await asyncio.gather(
        *(
            client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})
            for _ in range(5)
        )
    )

    assert [r.status_code for r in responses] == [200] * 5
    assert len({r.json()["access_token"] for r in responses}) == 5


async def test_a_wrong_password_and_an_unknown_email_answer_alike(client: AsyncClient) -> None:
    await created_org(client)

    wrong_password = await client.post(
        "/admin/login", json={"email": EMAIL, "password": "NotThePassword"}
    )
    unknown_email = await client.post(
        "/admin/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json() == {"detail": "Invalid email or password"}
    assert wrong_password.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": PASSWORD}, "email"),
        ({"email": EMAIL}, "password"),
        ({"email": "nope", "password": PASSWORD}, "email"),
        ({"email": EMAIL, "password": "x" * 73}, "password"),
    ],
)
async def test_invalid_input_is_400(client: AsyncClient, body: dict[str, str], field: str) -> None:
    response = await client.post("/admin/login", json=body)

    assert field_errors(response) == [field]


async def test_an_unknown_email_costs_a_full_bcrypt_check(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)

    response = await client.post(
        "/admin/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )

    assert response.status_code == 401
    assert len(checked) == 1
    assert checked[0].startswith(b"$2b$04$")
