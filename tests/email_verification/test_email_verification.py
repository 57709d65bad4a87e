"""Verifying an account's email: ask for a link, follow it once; invitations verify too;
accounts from before are unverified."""

from datetime import UTC, datetime, timedelta

import pytest
from asgi_lifespan import LifespanManager
from bson import ObjectId
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app import factory
from app.accounts.models import Account
from app.config import Settings
from app.db.schema import ACCOUNTS, EMAIL_VERIFICATIONS
from app.db.store import Store
from app.email_verification.migration import migrate_to_email_verification
from tests.conftest import borrowed
from tests.outbox import Outbox
from tests.support import EMAIL, bearer, created_org, login

SEND = "/api/v1/auth/email-verification"
CONFIRM = "/api/v1/auth/email-verification/confirm"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"email_verification_resend_seconds": 0})


@pytest.fixture
def app(settings: Settings, store: Store, outbox: Outbox) -> FastAPI:
    return factory.create_app(settings, store_opener=lambda _: borrowed(store))


async def signed_in(client: AsyncClient) -> dict[str, str]:
    await created_org(client)
    return bearer(await login(client))


async def me(client: AsyncClient, headers: dict[str, str]) -> dict[str, object]:
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_new_account_is_unverified_until_it_follows_the_emailed_link(
    client: AsyncClient, outbox: Outbox
) -> None:
    owner = await signed_in(client)
    assert (await me(client, owner))["email_verified"] is False
    assert (await me(client, owner))["email_verified_at"] is None
    assert outbox.sent == []  # signing up sends nothing by itself

    sent = await client.post(SEND, headers=owner)

    assert sent.status_code == 202, sent.text
    assert sent.json()["email"] == EMAIL
    [email] = outbox.sent
    assert email.to == EMAIL
    token = outbox.last_token_for(EMAIL)
    assert token in email.html
    confirmed = await client.post(CONFIRM, json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == EMAIL
    mine = await me(client, owner)
    assert mine["email_verified"] is True
    assert mine["email_verified_at"] == confirmed.json()["email_verified_at"]


async def test_a_link_works_once(client: AsyncClient, outbox: Outbox) -> None:
    owner = await signed_in(client)
    await client.post(SEND, headers=owner)
    token = outbox.last_token_for(EMAIL)
    assert (await client.post(CONFIRM, json={"token": token})).status_code == 200

    again = await client.post(CONFIRM, json={"token": token})

    assert again.status_code == 410
    assert again.json()["code"] == "email_verification_link_invalid"


async def test_asking_again_replaces_the_link(client: AsyncClient, outbox: Outbox) -> None:
    owner = await signed_in(client)
    await client.post(SEND, headers=owner)
    await client.post(SEND, headers=owner)
    first, second = outbox.tokens_for(EMAIL)

    assert (await client.post(CONFIRM, json={"token": first})).status_code == 410
    assert (await me(client, owner))["email_verified"] is False
    assert (await client.post(CONFIRM, json={"token": second})).status_code == 200


async def test_an_expired_link_verifies_nothing(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    owner = await signed_in(client)
    await client.post(SEND, headers=owner)
    past = datetime.now(UTC) - timedelta(seconds=1)
    await store.master[EMAIL_VERIFICATIONS].update_many({}, {"$set": {"expires_at": past}})

    expired = await client.post(CONFIRM, json={"token": outbox.last_token_for(EMAIL)})

    assert expired.status_code == 410
    assert (await me(client, owner))["email_verified"] is False


async def test_an_unknown_or_malformed_token_is_refused(client: AsyncClient) -> None:
    unknown = await client.post(CONFIRM, json={"token": "x" * 43})
    assert unknown.status_code == 410
    malformed = await client.post(CONFIRM, json={"token": "not a token; at all"})
    assert malformed.status_code == 400
    assert [item["loc"][-1] for item in malformed.json()["detail"]] == ["token"]


async def test_a_verified_address_is_not_sent_another_link(
    client: AsyncClient, outbox: Outbox
) -> None:
    owner = await signed_in(client)
    await client.post(SEND, headers=owner)
    await client.post(CONFIRM, json={"token": outbox.last_token_for(EMAIL)})

    again = await client.post(SEND, headers=owner)

    assert again.status_code == 409
    assert again.json()["code"] == "email_already_verified"
    assert len(outbox.sent) == 1


async def test_asking_needs_a_signed_in_account(client: AsyncClient) -> None:
    refused = await client.post(SEND)
    assert refused.status_code == 401


async def test_an_invitation_accepted_with_a_new_account_verifies_it(
    client: AsyncClient, outbox: Outbox
) -> None:
    owner = await signed_in(client)
    org = (await me(client, owner))["organization_id"]
    invited = await client.post(
        f"/api/v1/organizations/{org}/invitations",
        json={"email": "newcomer@techcorp.com", "role": "member"},
        headers=owner,
    )
    assert invited.status_code == 201, invited.text

    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={
            "token": outbox.last_token_for("newcomer@techcorp.com"),
            "password": "Newcomer-Password-1",
        },
    )

    assert accepted.status_code == 200, accepted.text
    newcomer = bearer(accepted.json()["access_token"])
    assert (await me(client, newcomer))["email_verified"] is True


async def test_an_invitation_accepted_by_an_existing_account_verifies_it(
    client: AsyncClient, outbox: Outbox
) -> None:
    owner = await signed_in(client)
    await created_org(client, "Other Corp", "someone@other.example")
    someone = bearer(await login(client, "someone@other.example"))
    assert (await me(client, someone))["email_verified"] is False
    org = (await me(client, owner))["organization_id"]
    await client.post(
        f"/api/v1/organizations/{org}/invitations",
        json={"email": "someone@other.example", "role": "viewer"},
        headers=owner,
    )

    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={"token": outbox.last_token_for("someone@other.example")},
        headers=someone,
    )

    assert accepted.status_code == 200, accepted.text
    assert (await me(client, someone))["email_verified"] is True


async def test_requests_are_throttled_per_account(
    settings: Settings, store: Store, outbox: Outbox
) -> None:
    throttled = settings.model_copy(update={"email_verification_resend_seconds": 60})
    app = factory.create_app(throttled, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        owner = await signed_in(client)
        assert (await client.post(SEND, headers=owner)).status_code == 202

        again = await client.post(SEND, headers=owner)

        assert again.status_code == 429
        assert again.json()["code"] == "email_verification_throttled"
        assert 1 <= int(again.headers["Retry-After"]) <= 60
        assert len(outbox.sent) == 1
        await created_org(client, "Other Corp", "someone@other.example")
        other = bearer(await login(client, "someone@other.example"))
        assert (await client.post(SEND, headers=other)).status_code == 202


async def test_requests_per_hour_are_bounded(
    settings: Settings, store: Store, outbox: Outbox
) -> None:
    bounded = settings.model_copy(update={"email_verification_per_hour": 2})
    app = factory.create_app(bounded, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        owner = await signed_in(client)
        answers = [(await client.post(SEND, headers=owner)).status_code for _ in range(3)]

    assert answers == [202, 202, 429]


async def test_accounts_from_before_are_migrated_as_unverified(store: Store) -> None:
    legacy = {
        "_id": ObjectId(),
        "email": "old@techcorp.com",
        "email_key": "old@techcorp.com",
        "password_hash": "x",
        "organization_id": ObjectId(),
        "created_at": datetime.now(UTC),
    }
    await store.master[ACCOUNTS].insert_one(dict(legacy))
    assert Account.from_document(legacy).email_verified is False

    assert await migrate_to_email_verification(store) == 1
    assert await migrate_to_email_verification(store) == 0

    stored = await store.master[ACCOUNTS].find_one({"_id": legacy["_id"]})
    assert stored is not None
    assert "email_verified_at" in stored
    assert stored["email_verified_at"] is None
