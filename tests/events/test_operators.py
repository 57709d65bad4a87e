"""Changes operators make at the command line are events too, by the operator."""

from httpx import AsyncClient

from app.access.roles import Role
from app.config import Settings
from app.db.store import Store
from app.operations.accounts import make_owner
from tests.events.feed import all_events
from tests.support import NAME, add_account, created_org, login


class Typed:
    def __call__(self) -> str:
        return "AnotherPassword123"


async def test_making_an_owner_is_a_member_added_or_a_role_change_by_the_operator(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    org = await created_org(client)
    await add_account(store, org["id"], "dev@techcorp.com", Role.MEMBER)
    await make_owner(store, settings, NAME, "second@techcorp.com", Typed())
    await make_owner(store, settings, NAME, "dev@techcorp.com", Typed())
    await make_owner(store, settings, NAME, "dev@techcorp.com", Typed())  # already: nothing
    events = await all_events(client, org["id"], await login(client))
    added, promoted = events[-2:]
    assert [e["type"] for e in events] == [
        "organization.created",
        "member.added",
        "member.role_changed",
    ]
    assert added["actor"]["kind"] == "operator"
    assert added["data"]["email"] == "second@techcorp.com"
    assert promoted["data"] == {
        "account_id": promoted["data"]["account_id"],
        "email": "dev@techcorp.com",
        "role": "owner",
        "previous_role": "member",
    }
