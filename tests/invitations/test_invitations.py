"""Invitations from start to end: invite, email, list, accept (new person or signed-in
account), resend, revoke, expire; the rules that refuse an invitation; and the token, which
works once and is never stored in clear.

The app here sends email through a recording fake, so each test reads the link it would click,
and runs on a store that yields before each database call (see `tests/members/test_last_owner`),
so that concurrent requests interleave as they do against a server.
"""

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app import factory
from app.access.roles import Role
from app.config import Settings
from app.db.schema import ACCOUNTS, INVITATIONS
from app.db.store import Store
from app.invitations.models import token_digest
from app.invitations.repository import REPLACED_TOKENS_KEPT
from app.plans import Plan
from tests.conftest import borrowed
from tests.members.test_last_owner import interleaving
from tests.outbox import Outbox
from tests.support import EMAIL, add_account, bearer, created_org, field_errors, login

INVITEE = "newcomer@techcorp.com"
NEW_PASSWORD = "Newcomer-Password-1"


@pytest.fixture
def app(settings: Settings, store: Store, outbox: Outbox) -> FastAPI:
    """The app of `tests/conftest.py`, built after the sender is replaced by the outbox."""
    return factory.create_app(settings, store_opener=lambda _: interleaving(borrowed(store)))


@dataclass(frozen=True, slots=True)
class Org:
    id: str
    owner: str  # the owner's token

    @property
    def invitations(self) -> str:
        return f"/api/v1/organizations/{self.id}/invitations"


async def organization(client: AsyncClient) -> Org:
    created = await created_org(client)
    return Org(created["id"], await login(client))


async def invite(
    client: AsyncClient, org: Org, email: str = INVITEE, role: str = "member"
) -> Response:
    return await client.post(
        org.invitations, json={"email": email, "role": role}, headers=bearer(org.owner)
    )


async def invited(
    client: AsyncClient, outbox: Outbox, org: Org, email: str = INVITEE, role: str = "member"
) -> tuple[dict[str, Any], str]:
    """A pending invitation and the token its email carries."""
    response = await invite(client, org, email, role)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body, outbox.last_token_for(email)


async def accept(
    client: AsyncClient, token: str, password: str | None = None, signed_in: str | None = None
) -> Response:
    body: dict[str, str] = {"token": token}
    if password is not None:
        body["password"] = password
    headers = bearer(signed_in) if signed_in else {}
    return await client.post("/api/v1/invitations/accept", json=body, headers=headers)


async def can_log_in(client: AsyncClient, email: str, password: str) -> bool:
    response = await client.post("/admin/login", json={"email": email, "password": password})
    return response.status_code == 200


async def pending(client: AsyncClient, org: Org) -> list[tuple[str, str]]:
    response = await client.get(org.invitations, headers=bearer(org.owner))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return [(item["email"], item["role"]) for item in page["items"]]


async def member_roles(client: AsyncClient, org: Org) -> dict[str, str]:
    response = await client.get(
        f"/api/v1/organizations/{org.id}/members?limit=100", headers=bearer(org.owner)
    )
    assert response.status_code == 200, response.text
    return {member["email"]: member["role"] for member in response.json()["items"]}


async def test_an_invitation_is_created_and_emailed_with_its_link(
    client: AsyncClient, outbox: Outbox, settings: Settings
) -> None:
    org = await organization(client)
    owner_id = (await client.get("/admin/me", headers=bearer(org.owner))).json()["admin_id"]

    response = await invite(client, org, role="billing_admin")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == INVITEE
    assert body["role"] == "billing_admin"
    assert body["status"] == "pending"
    assert body["invited_by"] == owner_id
    assert body["email_sent"] is True
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["created_at"]
    )
    assert abs(lifetime - timedelta(days=settings.invitation_ttl_days)) < timedelta(minutes=1)
    [email] = outbox.sent
    assert email.to == INVITEE
    token = outbox.last_token_for(INVITEE)
    assert settings.invitation_url_template.format(token=token) in email.body


async def test_pending_invitations_are_listed_for_those_who_manage_members(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    org = await organization(client)
    await invited(client, outbox, org, "first@techcorp.com", "viewer")
    await invited(client, outbox, org, "second@techcorp.com", "admin")
    await add_account(store, org.id, "member@techcorp.com", Role.MEMBER)
    member = await login(client, email="member@techcorp.com")

    listed = await pending(client, org)
    refused = await client.get(org.invitations, headers=bearer(member))

    assert listed == [("first@techcorp.com", "viewer"), ("second@techcorp.com", "admin")]
    assert refused.status_code == 403


async def test_only_an_owner_resends_or_revokes_an_admin_invitation(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    org = await organization(client)
    for_admin, _ = await invited(client, outbox, org, "boss@techcorp.com", "admin")
    for_member, _ = await invited(client, outbox, org, "dev@techcorp.com", "member")
    await add_account(store, org.id, "admin@other.techcorp.com", Role.ADMIN)
    admin = await login(client, email="admin@other.techcorp.com")

    answers = [
        await client.post(f"{org.invitations}/{for_admin['id']}/resend", headers=bearer(admin)),
        await client.delete(f"{org.invitations}/{for_admin['id']}", headers=bearer(admin)),
        await client.post(f"{org.invitations}/{for_member['id']}/resend", headers=bearer(admin)),
        await client.delete(f"{org.invitations}/{for_member['id']}", headers=bearer(admin)),
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 200, 200]
    assert await pending(client, org) == [("boss@techcorp.com", "admin")]
    assert len(outbox.tokens_for("boss@techcorp.com")) == 1


async def test_a_suspended_organization_sends_no_invitations(
    client: AsyncClient, outbox: Outbox
) -> None:
    org = await organization(client)
    invitation, _ = await invited(client, outbox, org)
    suspended = await client.post(
        f"/api/v1/organizations/{org.id}/suspend", headers=bearer(org.owner)
    )
    assert suspended.status_code == 200

    invited_now = await invite(client, org, "later@techcorp.com")
    resent = await client.post(
        f"{org.invitations}/{invitation['id']}/resend", headers=bearer(org.owner)
    )

    assert (invited_now.status_code, resent.status_code) == (423, 423)
    assert await pending(client, org) == [(INVITEE, "member")]
    assert [email.to for email in outbox.sent] == [INVITEE]


async def test_a_new_person_accepts_with_a_password_and_can_log_in(
    client: AsyncClient, outbox: Outbox
) -> None:
    org = await organization(client)
    _, token = await invited(client, outbox, org, role="viewer")

    response = await accept(client, token, password=NEW_PASSWORD)

    assert response.status_code == 200, response.text
    joined = response.json()
    assert (joined["org_id"], joined["role"]) == (org.id, "viewer")
    read = await client.get(
        f"/api/v1/organizations/{org.id}", headers=bearer(joined["access_token"])
    )
    assert read.status_code == 200
    assert read.json()["role"] == "viewer"
    assert await can_log_in(client, INVITEE, NEW_PASSWORD)
    assert await pending(client, org) == []
    assert (await member_roles(client, org))[INVITEE] == "viewer"


async def test_a_new_person_must_choose_a_password(client: AsyncClient, outbox: Outbox) -> None:
    org = await organization(client)
    _, token = await invited(client, outbox, org)

    response = await accept(client, token)

    assert field_errors(response) == ["password"]
    assert await pending(client, org) == [(INVITEE, "member")]


async def test_a_signed_in_account_with_the_invited_email_accepts_as_itself(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    org = await organization(client)
    other = await created_org(client, "Newcomer Labs", INVITEE, NEW_PASSWORD)
    own_token = await login(client, INVITEE, NEW_PASSWORD)
    _, token = await invited(client, outbox, org, role="admin")

    response = await accept(client, token, signed_in=own_token)

    assert response.status_code == 200, response.text
    joined = response.json()
    assert (joined["org_id"], joined["role"]) == (org.id, "admin")
    me = await client.get("/api/v1/auth/me", headers=bearer(joined["access_token"]))
    assert [(m["organization_id"], m["role"]) for m in me.json()["memberships"]] == [
        (other["id"], "owner"),
        (org.id, "admin"),
    ]
    assert await store.master[ACCOUNTS].count_documents({"email_key": INVITEE}) == 1
    assert (await member_roles(client, org))[INVITEE] == "admin"


async def test_a_signed_in_account_with_another_email_is_refused(
    client: AsyncClient, outbox: Outbox
) -> None:
    org = await organization(client)
    await created_org(client, "Intruder Labs", "intruder@techcorp.com", NEW_PASSWORD)
    intruder = await login(client, "intruder@techcorp.com", NEW_PASSWORD)
    _, token = await invited(client, outbox, org)

    response = await accept(client, token, signed_in=intruder)

    assert response.status_code == 403
    assert "intruder@techcorp.com" not in await member_roles(client, org)
    assert await pending(client, org) == [(INVITEE, "member")]
    assert (await accept(client, token, password=NEW_PASSWORD)).status_code == 200


async def test_an_email_that_has_an_account_must_sign_in_to_accept(
    client: AsyncClient, outbox: Outbox
) -> None:
    org = await organization(client)
    await created_org(client, "Newcomer Labs", INVITEE, NEW_PASSWORD)
    _, token = await invited(client, outbox, org)

    response = await accept(client, token, password="Someone-Elses-Guess")

    assert response.status_code == 409
    assert "sign in" in response.json()["detail"]
    assert await pending(client, org) == [(INVITEE, "member")]
    assert await can_log_in(client, INVITEE, NEW_PASSWORD)  # the password did not change
    assert not await can_log_in(client, INVITEE, "Someone-Elses-Guess")


async def test_an_unknown_token_is_404(client: AsyncClient) -> None:
    response = await accept(client, "x" * 43, password=NEW_PASSWORD)

    assert response.status_code == 404


async def test_a_used_token_is_gone(client: AsyncClient, store: Store, outbox: Outbox) -> None:
    org = await organization(client)
    _, token = await invited(client, outbox, org)
    assert (await accept(client, token, password=NEW_PASSWORD)).status_code == 200

    again = await accept(client, token, password="Another-Password-2")

    assert await store.master[ACCOUNTS].count_documents({"email_key": INVITEE}) == 1
    assert await can_log_in(client, INVITEE, NEW_PASSWORD)
    assert again.status_code == 410, again.text


async def test_resending_replaces_the_token(client: AsyncClient, outbox: Outbox) -> None:
    org = await organization(client)
    invitation, old = await invited(client, outbox, org)

    resent = await client.post(
        f"{org.invitations}/{invitation['id']}/resend", headers=bearer(org.owner)
    )

    assert resent.status_code == 200, resent.text
    assert resent.json()["email_sent"] is True
    new = outbox.last_token_for(INVITEE)
    assert new != old
    refused = await accept(client, old, password=NEW_PASSWORD)
    assert refused.status_code == 410, refused.text
    assert refused.json()["code"] == "invitation_replaced"
    assert (await accept(client, new, password=NEW_PASSWORD)).status_code == 200


async def test_every_replaced_link_is_gone_whoever_follows_it(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    org = await organization(client)
    await add_account(store, org.id, "home@techcorp.com", Role.MEMBER)
    invitation, first = await invited(client, outbox, org, "x@techcorp.com")
    resend = f"{org.invitations}/{invitation['id']}/resend"
    assert (await client.post(resend, headers=bearer(org.owner))).status_code == 200
    second = outbox.last_token_for("x@techcorp.com")
    assert (await client.post(resend, headers=bearer(org.owner))).status_code == 200
    current = outbox.last_token_for("x@techcorp.com")
    signed_in = await login(client, email="home@techcorp.com")

    answers = [
        await accept(client, first, password=NEW_PASSWORD),
        await accept(client, second, password=NEW_PASSWORD),
        await accept(client, first, signed_in=signed_in),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (410, "invitation_replaced")
    ] * 3
    assert (await accept(client, current, password=NEW_PASSWORD)).status_code == 200
    # Once the invitation is used, its old links still say they were replaced.
    again = await accept(client, second, password=NEW_PASSWORD)
    assert (again.status_code, again.json()["code"]) == (410, "invitation_replaced")


async def test_concurrent_resends_leave_one_working_link(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    org = await organization(client)
    invitation, first = await invited(client, outbox, org)
    resend = f"{org.invitations}/{invitation['id']}/resend"

    answers = await asyncio.gather(
        *(client.post(resend, headers=bearer(org.owner)) for _ in range(4))
    )

    assert {answer.status_code for answer in answers} <= {200, 409}, [a.text for a in answers]
    sent = outbox.tokens_for(INVITEE)
    assert len(sent) == 1 + sum(answer.status_code == 200 for answer in answers)
    stored = await store.master[INVITATIONS].find_one({"_id": ObjectId(invitation["id"])})
    assert stored is not None
    assert len(stored["replaced_token_digests"]) == len(sent) - 1
    [current] = [t for t in sent if token_digest(t) == stored["token_digest"]]
    replaced = [t for t in sent if t != current]
    for token in replaced:
        refused = await accept(client, token, password=NEW_PASSWORD)
        assert refused.json()["code"] == "invitation_replaced", refused.text
    assert first in replaced
    assert (await accept(client, current, password=NEW_PASSWORD)).status_code == 200


async def test_only_the_latest_replaced_links_are_kept(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    org = await organization(client)
    invitation, _ = await invited(client, outbox, org)
    for _ in range(REPLACED_TOKENS_KEPT + 2):
        resent = await client.post(
            f"{org.invitations}/{invitation['id']}/resend", headers=bearer(org.owner)
        )
        assert resent.status_code == 200, resent.text

    stored = await store.master[INVITATIONS].find_one({"_id": ObjectId(invitation["id"])})

    assert stored is not None
    assert len(stored["replaced_token_digests"]) == REPLACED_TOKENS_KEPT
    oldest, *_ = outbox.tokens_for(INVITEE)
    assert (await accept(client, oldest, password=NEW_PASSWORD)).status_code == 404


async def test_a_revoked_invitation_is_gone(client: AsyncClient, outbox: Outbox) -> None:
    org = await organization(client)
    invitation, token = await invited(client, outbox, org)

    revoked = await client.delete(
        f"{org.invitations}/{invitation['id']}", headers=bearer(org.owner)
    )

    assert revoked.status_code == 200, revoked.text
    assert await pending(client, org) == []
    again = await client.delete(f"{org.invitations}/{invitation['id']}", headers=bearer(org.owner))
    assert again.status_code == 410
    refused = await accept(client, token, password=NEW_PASSWORD)
    assert INVITEE not in await member_roles(client, org)
    assert refused.status_code == 410, refused.text
    assert refused.json() == {"detail": "This invitation was revoked", "code": "invitation_gone"}


async def test_an_expired_invitation_is_gone_and_the_person_can_be_invited_again(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    org = await organization(client)
    invitation, token = await invited(client, outbox, org)
    await store.master[INVITATIONS].update_one(
        {"_id": ObjectId(invitation["id"])},
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
    )

    response = await accept(client, token, password=NEW_PASSWORD)

    assert response.status_code == 410
    assert response.json()["code"] == "invitation_gone"
    assert "expired" in response.json()["detail"]
    assert INVITEE not in await member_roles(client, org)
    assert await pending(client, org) == []
    _, fresh = await invited(client, outbox, org)
    assert (await accept(client, fresh, password=NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize("spelling", [INVITEE, INVITEE.upper()])
async def test_a_second_pending_invitation_for_one_person_is_refused(
    client: AsyncClient, outbox: Outbox, spelling: str
) -> None:
    org = await organization(client)
    await invited(client, outbox, org)

    response = await invite(client, org, spelling, "admin")

    assert response.status_code == 409
    assert await pending(client, org) == [(INVITEE, "member")]
    assert len(outbox.sent) == 1


async def test_a_member_cannot_be_invited(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    org = await organization(client)
    await add_account(store, org.id, INVITEE, Role.VIEWER)

    answers = [await invite(client, org, email) for email in (EMAIL, INVITEE, INVITEE.upper())]

    assert [answer.status_code for answer in answers] == [409, 409, 409]
    assert await pending(client, org) == []
    assert outbox.sent == []


async def test_owners_are_not_invited(client: AsyncClient, outbox: Outbox) -> None:
    org = await organization(client)

    response = await invite(client, org, role="owner")

    assert field_errors(response) == ["role"]
    assert await pending(client, org) == []


async def test_the_free_plan_counts_pending_invitations_towards_its_member_limit(
    client: AsyncClient, outbox: Outbox, settings: Settings
) -> None:
    org = await organization(client)
    limit = settings.plans.member_limit(Plan.FREE)
    assert limit == 5
    invitations = [
        (await invited(client, outbox, org, f"p{n}@techcorp.com"))[0] for n in range(1, 4)
    ]
    _, token = await invited(client, outbox, org, "p4@techcorp.com")
    assert (await accept(client, token, password=NEW_PASSWORD)).status_code == 200

    over = await invite(client, org, "p5@techcorp.com")

    assert over.status_code == 409, over.text
    assert "no more members" in over.json()["detail"]
    assert "p5@techcorp.com" not in [to for to, _ in await pending(client, org)]
    assert outbox.tokens_for("p5@techcorp.com") == []
    revoked = await client.delete(
        f"{org.invitations}/{invitations[0]['id']}", headers=bearer(org.owner)
    )
    assert revoked.status_code == 200
    assert (await invite(client, org, "p5@techcorp.com")).status_code == 201


async def test_concurrent_invitations_never_exceed_the_member_limit(
    client: AsyncClient, outbox: Outbox
) -> None:
    org = await organization(client)

    answers = await asyncio.gather(
        *(invite(client, org, f"rush{n}@techcorp.com") for n in range(8))
    )

    assert len(await pending(client, org)) == 4
    assert sorted(answer.status_code for answer in answers) == [201] * 4 + [409] * 4


async def after_concurrent_accepts(
    client: AsyncClient, store: Store, org: Org, answers: list[Response]
) -> int:
    """Check that exactly one accept won and the invitation stays answered; returns the
    winner's index."""
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 1, statuses
    # Losers find the invitation used (410) or gone (404), or its email taken by the winner
    # a moment ago (409, "sign in").
    assert set(statuses) <= {200, 404, 409, 410}, statuses
    assert await pending(client, org) == []
    assert await store.master[ACCOUNTS].count_documents({"email_key": INVITEE}) == 1
    assert (await member_roles(client, org))[INVITEE] == "member"
    return statuses.index(200)


@pytest.mark.parametrize("round_", range(5))
async def test_only_one_of_concurrent_accepts_by_a_new_person_succeeds(
    client: AsyncClient, store: Store, outbox: Outbox, round_: int
) -> None:
    org = await organization(client)
    _, token = await invited(client, outbox, org)

    answers = await asyncio.gather(
        *(accept(client, token, password=f"{NEW_PASSWORD}-{n}") for n in range(5))
    )

    winner = await after_concurrent_accepts(client, store, org, list(answers))
    assert await can_log_in(client, INVITEE, f"{NEW_PASSWORD}-{winner}")


@pytest.mark.parametrize("round_", range(5))
async def test_only_one_of_concurrent_accepts_by_a_signed_in_account_succeeds(
    client: AsyncClient, store: Store, outbox: Outbox, round_: int
) -> None:
    org = await organization(client)
    await created_org(client, "Newcomer Labs", INVITEE, NEW_PASSWORD)
    home = await login(client, INVITEE, NEW_PASSWORD)
    _, token = await invited(client, outbox, org)

    answers = await asyncio.gather(*(accept(client, token, signed_in=home) for _ in range(5)))

    await after_concurrent_accepts(client, store, org, list(answers))


async def test_tokens_are_never_stored_in_clear(
    client: AsyncClient, store: Store, outbox: Outbox
) -> None:
    org = await organization(client)
    first, _ = await invited(client, outbox, org, "a@techcorp.com")
    await invited(client, outbox, org, "b@techcorp.com")
    _, used = await invited(client, outbox, org, "c@techcorp.com")
    await client.post(f"{org.invitations}/{first['id']}/resend", headers=bearer(org.owner))
    assert (await accept(client, used, password=NEW_PASSWORD)).status_code == 200

    documents = await store.master[INVITATIONS].find({}).to_list()

    tokens = [t for email in ("a", "b", "c") for t in outbox.tokens_for(f"{email}@techcorp.com")]
    assert len(tokens) == 4
    assert len(documents) == 3
    stored = repr(documents)
    assert not [token for token in tokens if token in stored]
    digests = [d["token_digest"] for d in documents if d["status"] == "pending"]
    assert len(digests) == 2
    assert all(re.fullmatch("[0-9a-f]{64}", digest) for digest in digests)


async def test_a_person_who_left_can_be_invited_back(client: AsyncClient, outbox: Outbox) -> None:
    org = await organization(client)
    _, token = await invited(client, outbox, org)
    joined = (await accept(client, token, password=NEW_PASSWORD)).json()
    left = await client.post(
        f"/api/v1/organizations/{org.id}/members/leave",
        headers=bearer(joined["access_token"]),
    )
    assert left.status_code == 200
    _, again = await invited(client, outbox, org)

    response = await accept(client, again, password=NEW_PASSWORD)

    assert response.status_code == 200, response.text
    assert (await member_roles(client, org))[INVITEE] == "member"


async def test_tokens_from_before_a_removal_stay_dead_after_rejoining(
    client: AsyncClient, outbox: Outbox
) -> None:
    org = await organization(client)
    await created_org(client, "Newcomer Labs", INVITEE, NEW_PASSWORD)
    home = await login(client, INVITEE, NEW_PASSWORD)
    _, token = await invited(client, outbox, org)
    joined = (await accept(client, token, signed_in=home)).json()
    before_removal = joined["access_token"]
    removed = await client.delete(
        f"/api/v1/organizations/{org.id}/members/{joined['admin_id']}", headers=bearer(org.owner)
    )
    assert removed.status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=bearer(before_removal))).status_code == 401
    _, again = await invited(client, outbox, org, role="viewer")
    assert (await accept(client, again, signed_in=home)).status_code == 200

    response = await client.get("/api/v1/auth/me", headers=bearer(before_removal))

    assert response.status_code == 401, response.text
