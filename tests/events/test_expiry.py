"""An invitation that runs out is announced once, by the sweep that notices it."""

from datetime import UTC, datetime, timedelta

from bson import ObjectId
from httpx import AsyncClient

from app.config import Settings
from app.db.schema import INVITATIONS
from app.db.store import Store
from app.events.outbox import utc_now
from app.invitations.expiry import ExpiryNotices
from app.invitations.repository import InvitationRepository
from app.operations.outbox import build_outbox
from tests.events.feed import all_events
from tests.outbox import Outbox
from tests.support import bearer, created_org, login


def notices(settings: Settings, store: Store) -> ExpiryNotices:
    return ExpiryNotices(InvitationRepository(store), build_outbox(settings, store), utc_now)


async def test_an_expired_invitation_is_announced_once_and_again_after_a_resend(
    outbox: Outbox, client: AsyncClient, store: Store, settings: Settings
) -> None:
    org = await created_org(client)
    token = await login(client)
    path = f"/api/v1/organizations/{org['id']}/invitations"
    invited = await client.post(
        path, json={"email": "late@techcorp.com", "role": "member"}, headers=bearer(token)
    )
    assert invited.status_code == 201, invited.text
    invitation_id = ObjectId(invited.json()["id"])
    sweep = notices(settings, store)
    assert await sweep.sweep() == 0  # not expired yet
    past = datetime.now(UTC) - timedelta(minutes=1)
    await store.master[INVITATIONS].update_one(
        {"_id": invitation_id}, {"$set": {"expires_at": past}}
    )
    assert await sweep.sweep() == 1
    assert await sweep.sweep() == 0
    resent = await client.post(f"{path}/{invitation_id}/resend", headers=bearer(token))
    assert resent.status_code < 300, resent.text
    assert await sweep.sweep() == 0
    later = datetime.now(UTC) + timedelta(days=30)
    assert await sweep.sweep(later) == 1
    types = [e["type"] for e in await all_events(client, org["id"], token)]
    assert types == [
        "organization.created",
        "invitation.created",
        "invitation.expired",
        "invitation.resent",
        "invitation.expired",
    ]
    expired = [e for e in await all_events(client, org["id"], token) if "expired" in e["type"]]
    assert expired[0]["actor"]["kind"] == "system"
    assert expired[0]["data"]["email"] == "late@techcorp.com"
