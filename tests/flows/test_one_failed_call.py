"""Every multi-step write, with each of its database calls failing in turn.

For a flow and every K, a fresh service makes the flow's request while the K-th database call
fails (a network error, as a failover or a dropped connection gives). The answer must tell
the truth: a success means the flow took effect, a 503 means nothing did (the state is what
it was before the request). Right after, and after the same request is made again, the
invariants hold: registry, claims and tenant collections account for each other; the owner
count is the number of owners; every workspace member is a member; no one holds a seat twice
(a member with a pending invitation); every accepted invitation made a member. The retry
converges on the completed flow. K grows until the flow makes fewer calls than K.
"""

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from bson import ObjectId
from httpx import ASGITransport, AsyncClient, Response
from pymongo.errors import PyMongoError

from app.access.roles import Role
from app.api import state
from app.audit.trail import AuditTrail
from app.config import Settings
from app.db import retry
from app.db.memory import open_memory_store
from app.db.schema import (
    ACCOUNTS,
    API_KEYS,
    INVITATIONS,
    MEMBERSHIPS,
    ORGANIZATIONS,
    WORKSPACE_MEMBERS,
    WORKSPACES,
    WRITE_LEASES,
)
from app.db.store import Store
from app.errors import AppError
from app.factory import create_app
from app.operations.outbox import build_outbox
from app.operations.placement import move_organization
from app.operations.platform_keys import create_platform_key
from app.organizations.lifecycle import Lifecycle
from app.organizations.retention import PurgeSweep
from app.platform.models import PlatformScope
from app.registry.repository import OrganizationRepository
from tests.conftest import borrowed
from tests.crash import FailOnce, gated_store
from tests.outbox import Outbox
from tests.support import (
    EMAIL,
    NAME,
    PASSWORD,
    add_account,
    assert_consistent,
    bearer,
    create_org,
    delete,
    login,
    rename,
    tenant_namespaces,
)

INVITEE = "newcomer@techcorp.com"
SECOND_DB = "tenantry_tenants_2"
# Collections whose contents a failed request may change without changing the organization:
# the record of what happened and of who tried, and claims of retried requests.
BOOKKEEPING = {
    "audit_log",
    # A sequence number handed out to an event the failed change then dropped. The events
    # themselves are compared: a failed request leaves none.
    "event_streams",
    "idempotency_keys",
    "login_failures",
    "login_trusted_addresses",
    # When a platform key was last used.
    "platform_keys",
    "throttle_attempts",
}


@dataclasses.dataclass
class World:
    """What a flow's preparation made: tokens and ids the request and the checks use."""

    client: AsyncClient
    store: Store
    outbox: Outbox
    org_id: str = ""
    owner: str = ""  # the owner's token
    values: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def org(self) -> str:
        return f"/api/v1/organizations/{self.org_id}"


Outcome = Response | None  # None: an operation run in-process that raised


@dataclasses.dataclass(frozen=True)
class Flow:
    name: str
    prepare: Callable[[World], Awaitable[None]]
    request: Callable[[World], Awaitable[Outcome]]
    completed: Callable[[World], Awaitable[None]]
    # Whether the flow sends writes the driver does not retry by itself (see tests/crash.py).
    unretried_writes: bool = False


# --- Preparations ---------------------------------------------------------------------


async def nothing(world: World) -> None:
    return None


async def with_org(world: World) -> None:
    created = await create_org(world.client)
    assert created.status_code == 201, created.text
    world.org_id = created.json()["id"]
    world.owner = await login(world.client)
    stored = await world.client.post(
        f"{world.org}/documents/batch",
        json={"documents": [{"n": n} for n in range(3)]},
        headers=bearer(world.owner),
    )
    assert stored.status_code == 201, stored.text


async def with_invitation(world: World) -> None:
    await with_org(world)
    world.values["password"] = "Newcomer-Password-1"
    invited = await world.client.post(
        f"{world.org}/invitations",
        json={"email": INVITEE, "role": "member"},
        headers=bearer(world.owner),
    )
    assert invited.status_code == 201, invited.text
    world.values["invitation"] = world.outbox.last_token_for(INVITEE)


async def with_signed_in_invitee(world: World) -> None:
    """The invitee already has an account, owner of an organization of their own."""
    await with_invitation(world)
    world.values["password"] = PASSWORD
    other = await create_org(world.client, "Other Corp", INVITEE, PASSWORD)
    assert other.status_code == 201, other.text
    world.values["invitee_token"] = await login(world.client, INVITEE)


async def with_members(world: World) -> None:
    """A second owner, an admin and a member beside the founding owner."""
    await with_org(world)
    for email, role in (
        ("second@techcorp.com", Role.OWNER),
        ("admin@techcorp.io", Role.ADMIN),
        ("member@techcorp.com", Role.MEMBER),
    ):
        account = await add_account(world.store, world.org_id, email, role)
        world.values[role.value] = str(account)
    await count_owners(world)


async def count_owners(world: World) -> None:
    """Record the owners `add_account` made, as the service keeps them counted."""
    owners = await world.store.master[MEMBERSHIPS].count_documents(
        {"organization_id": ObjectId(world.org_id), "role": "owner"}
    )
    await world.store.master[ORGANIZATIONS].update_one(
        {"_id": ObjectId(world.org_id)}, {"$set": {"owner_count": owners}}
    )


async def with_workspace(world: World) -> None:
    await with_members(world)
    made = await world.client.post(
        f"{world.org}/workspaces", json={"name": "Research"}, headers=bearer(world.owner)
    )
    assert made.status_code == 201, made.text
    workspace = made.json()["id"]
    world.values["workspace"] = workspace
    put = await world.client.put(
        f"{world.org}/workspaces/{workspace}/members/{world.values['member']}",
        json={"role": "editor"},
        headers=bearer(world.owner),
    )
    assert put.status_code < 300, put.text
    switched = await world.client.post(
        "/api/v1/auth/switch",
        json={"organization_id": world.org_id, "workspace_id": workspace},
        headers=bearer(world.owner),
    )
    assert switched.status_code == 200, switched.text
    in_workspace = bearer(switched.json()["access_token"])
    for n in range(2):
        stored = await world.client.post(
            f"{world.org}/documents", json={"n": n}, headers=in_workspace
        )
        assert stored.status_code == 201, stored.text


async def with_platform_key(world: World) -> None:
    minted = await create_platform_key(
        world.store, world.values["settings"], "ops", PlatformScope.WRITE, "ops"
    )
    world.values["platform_key"] = minted.secret


async def platform_create(world: World) -> Response:
    return await world.client.post(
        "/api/v1/admin/organizations",
        json={"organization_name": NAME, "owner_email": EMAIL, "owner_password": PASSWORD},
        headers=bearer(world.values["platform_key"]),
    )


async def with_key(world: World) -> None:
    await with_org(world)
    made = await world.client.post(
        f"{world.org}/api-keys", json={"name": "ci", "role": "member"}, headers=bearer(world.owner)
    )
    assert made.status_code == 201, made.text
    world.values["key"] = made.json()["id"]


# --- Completed states -----------------------------------------------------------------


async def organizations(world: World) -> list[dict[str, Any]]:
    return await world.store.master[ORGANIZATIONS].find({}).to_list()


async def membership(world: World, account: str) -> dict[str, Any] | None:
    return await world.store.master[MEMBERSHIPS].find_one({"_id": f"{account}:{world.org_id}"})


async def role_of(world: World, account: str) -> str | None:
    found = await membership(world, account)
    return found["role"] if found else None


async def created(world: World) -> None:
    found = await world.client.get("/org/get", params={"organization_name": NAME})
    assert found.status_code == 200, found.text
    entered = await world.client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})
    assert entered.status_code == 200, entered.text


async def renamed(world: World) -> None:
    [entry] = await organizations(world)
    assert entry["name"] == "Renamed Corp"
    assert entry["tenant_collection"] == "tenant_renamed_corp"
    collection = world.store.tenant_database(entry.get("tenant_database") or "")
    assert await collection["tenant_renamed_corp"].count_documents({}) == 3


async def moved(world: World) -> None:
    [entry] = await organizations(world)
    assert entry["tenant_database"] == SECOND_DB
    assert entry["state"] == "active"
    collection = world.store.tenant_database(SECOND_DB)[entry["tenant_collection"]]
    assert await collection.count_documents({}) == 3


async def deleted(world: World) -> None:
    assert await organizations(world) == []
    found = await world.client.get("/org/get", params={"organization_name": NAME})
    assert found.status_code == 404


async def in_trash(world: World) -> None:
    [entry] = await organizations(world)
    assert entry["state"] == "deleted"
    collection = world.store.tenant_database(entry.get("tenant_database") or "")
    assert await collection[entry["trash"]["collection"]].count_documents({}) == 3
    found = await world.client.get("/org/get", params={"organization_name": NAME})
    assert found.status_code == 404


async def with_deleted_org(world: World) -> None:
    await with_org(world)
    deleted = await world.client.delete(world.org, headers=bearer(world.owner))
    assert deleted.status_code == 200, deleted.text


async def restore(world: World) -> Response:
    return await world.client.post(
        f"{world.org}/restore", json={"email": EMAIL, "password": PASSWORD}
    )


async def restored(world: World) -> None:
    [entry] = await organizations(world)
    assert (entry["state"], "trash" in entry) == ("active", False)
    collection = world.store.tenant_database(entry.get("tenant_database") or "")
    assert await collection[entry["tenant_collection"]].count_documents({}) == 3


async def joined(world: World) -> None:
    account = await world.store.master[ACCOUNTS].find_one({"email": INVITEE})
    assert account is not None
    assert await role_of(world, str(account["_id"])) == "member"
    invitation = await world.store.master[INVITATIONS].find_one({"email": INVITEE})
    assert invitation is not None
    assert invitation["status"] == "accepted"
    # A new member starts in the default workspace, so the documents are theirs to read.
    token = await login(world.client, INVITEE, world.values["password"])
    switched = await world.client.post(
        "/api/v1/auth/switch", json={"organization_id": world.org_id}, headers=bearer(token)
    )
    assert switched.status_code == 200, switched.text
    listed = await world.client.get(
        f"{world.org}/documents", headers=bearer(switched.json()["access_token"])
    )
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == 3


def role_became(account_key: str, role: str) -> Callable[[World], Awaitable[None]]:
    async def check(world: World) -> None:
        assert await role_of(world, world.values[account_key]) == role

    return check


async def transferred(world: World) -> None:
    assert await role_of(world, world.values["member"]) == "owner"
    founder = await world.store.master[ACCOUNTS].find_one({"email": EMAIL})
    assert founder is not None
    assert await role_of(world, str(founder["_id"])) == "admin"


def removed(account_key: str) -> Callable[[World], Awaitable[None]]:
    async def check(world: World) -> None:
        assert await membership(world, world.values[account_key]) is None

    return check


async def workspace_deleted(world: World) -> None:
    workspace = ObjectId(world.values["workspace"])
    assert await world.store.master[WORKSPACES].find_one({"_id": workspace}) is None
    assert (
        await world.store.master[WORKSPACE_MEMBERS].count_documents({"workspace_id": workspace})
        == 0
    )
    [entry] = await organizations(world)
    collection = world.store.tenant_database(entry.get("tenant_database") or "")[
        entry["tenant_collection"]
    ]
    assert await collection.count_documents({"workspace_id": workspace}) == 0
    assert await collection.count_documents({}) == 3


async def key_made(world: World) -> None:
    # A retry after a success makes a second key: creating one is not idempotent.
    assert await world.store.master[API_KEYS].count_documents({"name": "deploy"}) >= 1


async def key_revoked(world: World) -> None:
    key = await world.store.master[API_KEYS].find_one({"_id": ObjectId(world.values["key"])})
    assert key is not None
    assert key["revoked_at"] is not None


async def on_pro_plan(world: World) -> None:
    billing = await world.client.get(f"{world.org}/billing", headers=bearer(world.owner))
    assert billing.status_code == 200, billing.text
    assert billing.json()["plan"] == "pro"


async def purge_when_due(world: World) -> Outcome:
    """The retention sweep, once the period is over: done when nothing is left in the trash."""
    settings: Settings = world.values["settings"]
    gated: Store = world.values["gated"]
    later = datetime.now(UTC) + timedelta(days=settings.deleted_retention_days + 1)
    sweep = PurgeSweep(
        Lifecycle.configured(gated, settings),
        OrganizationRepository(gated),
        AuditTrail(gated),
        build_outbox(settings, gated),
        clock=lambda: later,
    )
    try:
        await sweep.run()
    except PyMongoError:  # the search for what is due failed: the next sweep tries again
        return None
    left = await world.store.master[ORGANIZATIONS].count_documents({"state": "deleted"})
    return None if left else Response(200)


# --- The flows ------------------------------------------------------------------------


async def operator_move(world: World) -> Outcome:
    try:
        await move_organization(world.values["gated"], world.values["settings"], NAME, SECOND_DB)
    except PyMongoError:
        return None
    except AppError as refused:
        return Response(refused.status_code)
    return Response(200)


FLOWS = [
    Flow("create", nothing, lambda w: create_org(w.client), created, True),
    Flow("create through the platform API", with_platform_key, platform_create, created, True),
    Flow("rename", with_org, lambda w: rename(w.client, w.owner, "Renamed Corp"), renamed, True),
    Flow("move", with_org, operator_move, moved, True),
    Flow("delete", with_org, lambda w: delete(w.client, w.owner), deleted, True),
    Flow(
        "soft delete",
        with_org,
        lambda w: w.client.delete(w.org, headers=bearer(w.owner)),
        in_trash,
        True,
    ),
    Flow("restore", with_deleted_org, restore, restored, True),
    Flow("purge when due", with_deleted_org, purge_when_due, deleted, True),
    Flow(
        "accept as a new account",
        with_invitation,
        lambda w: w.client.post(
            "/api/v1/invitations/accept",
            json={"token": w.values["invitation"], "password": w.values["password"]},
        ),
        joined,
    ),
    Flow(
        "accept signed in",
        with_signed_in_invitee,
        lambda w: w.client.post(
            "/api/v1/invitations/accept",
            json={"token": w.values["invitation"]},
            headers=bearer(w.values["invitee_token"]),
        ),
        joined,
    ),
    Flow(
        "transfer ownership",
        with_members,
        lambda w: w.client.post(
            f"{w.org}/members/transfer-ownership",
            json={"account_id": w.values["member"]},
            headers=bearer(w.owner),
        ),
        transferred,
    ),
    Flow(
        "remove a member",
        with_members,
        lambda w: w.client.delete(f"{w.org}/members/{w.values['member']}", headers=bearer(w.owner)),
        removed("member"),
        unretried_writes=True,
    ),
    Flow(
        "remove an owner",
        with_members,
        lambda w: w.client.delete(f"{w.org}/members/{w.values['owner']}", headers=bearer(w.owner)),
        removed("owner"),
        unretried_writes=True,
    ),
    Flow(
        "promote to owner",
        with_members,
        lambda w: w.client.patch(
            f"{w.org}/members/{w.values['member']}", json={"role": "owner"}, headers=bearer(w.owner)
        ),
        role_became("member", "owner"),
    ),
    Flow(
        "demote an owner",
        with_members,
        lambda w: w.client.patch(
            f"{w.org}/members/{w.values['owner']}", json={"role": "viewer"}, headers=bearer(w.owner)
        ),
        role_became("owner", "viewer"),
    ),
    Flow(
        "delete a workspace",
        with_workspace,
        lambda w: w.client.request(
            "DELETE",
            f"{w.org}/workspaces/{w.values['workspace']}?confirm=true",
            headers=bearer(w.owner),
        ),
        workspace_deleted,
        unretried_writes=True,
    ),
    Flow(
        "create an API key",
        with_org,
        lambda w: w.client.post(
            f"{w.org}/api-keys", json={"name": "deploy", "role": "admin"}, headers=bearer(w.owner)
        ),
        key_made,
    ),
    Flow(
        "revoke an API key",
        with_key,
        lambda w: w.client.delete(f"{w.org}/api-keys/{w.values['key']}", headers=bearer(w.owner)),
        key_revoked,
    ),
    Flow(
        "change plan",
        with_members,
        lambda w: w.client.patch(f"{w.org}/billing", json={"plan": "pro"}, headers=bearer(w.owner)),
        on_pro_plan,
    ),
]


# --- The harness ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_pause_between_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed call is failed once: the next attempt need not wait for a failover."""
    monkeypatch.setattr(retry, "FIRST_PAUSE_SECONDS", 0)


@asynccontextmanager
async def world_for(settings: Settings, gate: FailOnce) -> AsyncIterator[World]:
    """A fresh service on a fresh store, whose database calls pass `gate`."""
    store = open_memory_store(settings)
    outbox = Outbox()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(state, "build_sender", lambda _: outbox)
        app = create_app(settings, store_opener=lambda _: gated_store(borrowed(store), gate))
        async with (
            LifespanManager(app) as manager,
            AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
        ):
            world = World(client, store, outbox)
            world.values.update(settings=settings, gated=gated_store(borrowed(store), gate))
            yield world


async def snapshot(store: Store) -> dict[str, list[Any]]:
    """Everything the organization is made of, in a form that compares."""
    taken: dict[str, list[Any]] = {}
    for name in sorted(await store.master.list_collection_names()):
        if name in BOOKKEEPING:
            continue
        documents = await store.master[name].find({}).to_list()
        taken[name] = sorted((_stable(document) for document in documents), key=repr)
    for namespace in await tenant_namespaces(store):
        database, collection = namespace.split(".", 1)
        documents = await store.tenant_database(database)[collection].find({}).to_list()
        taken[namespace] = sorted(repr(sorted(d.items())) for d in documents)
    return taken


def _stable(document: dict[str, Any]) -> str:
    # When an entry was last touched, or a member last active, is no part of what it holds.
    return repr(
        sorted((k, v) for k, v in document.items() if k not in {"modified_at", "last_active_at"})
    )


async def assert_invariants(store: Store, where: str) -> None:
    try:
        await _assert_invariants(store)
    except AssertionError as broken:
        raise AssertionError(f"{where}: {broken}") from None


async def _assert_invariants(store: Store) -> None:
    await assert_consistent(store)
    master = store.master
    for entry in await master[ORGANIZATIONS].find({}).to_list():
        owners = (
            await master[MEMBERSHIPS]
            .find({"organization_id": entry["_id"], "role": "owner"})
            .to_list()
        )
        assert entry["owner_count"] == len(owners) >= 1, entry
        assert entry["admin_id"] in {owner["account_id"] for owner in owners}
        assert not entry.get("holds"), "a lease outlived its request"
    for held in await master[MEMBERSHIPS].find({}).to_list():
        assert await master[ACCOUNTS].find_one({"_id": held["account_id"]}), held
    for seat in await master[WORKSPACE_MEMBERS].find({}).to_list():
        workspace = await master[WORKSPACES].find_one({"_id": seat["workspace_id"]})
        assert workspace is not None, seat
        assert workspace["organization_id"] == seat["organization_id"], seat
        assert await master[MEMBERSHIPS].find_one(
            {"account_id": seat["account_id"], "organization_id": seat["organization_id"]}
        ), seat
    for invitation in await master[INVITATIONS].find({}).to_list():
        account = await master[ACCOUNTS].find_one({"email": invitation["email"]})
        is_member = account is not None and bool(
            await master[MEMBERSHIPS].find_one(
                {"account_id": account["_id"], "organization_id": invitation["organization_id"]}
            )
        )
        if invitation["status"] == "pending":
            assert not is_member, "a member still holds a pending invitation's seat"
        if invitation["status"] == "accepted":
            assert is_member, "an accepted invitation made no member"
    assert await master[WRITE_LEASES].count_documents({}) == 0


def succeeded(outcome: Outcome) -> bool:
    return outcome is not None and outcome.status_code < 400


@pytest.mark.parametrize(
    ("flow", "lost_reply"),
    [
        pytest.param(flow, lost, id=f"{flow.name}, {'reply lost' if lost else 'failed'}")
        for flow in FLOWS
        for lost in (False, True)
        if flow.unretried_writes or not lost
    ],
)
async def test_a_flow_whose_database_call_fails_is_done_or_undone_and_a_retry_completes_it(
    settings: Settings, flow: Flow, lost_reply: bool
) -> None:
    settings = settings.model_copy(update={"tenant_copy_batch_size": 2})
    gate = FailOnce()
    calls = 0
    for k in range(1, 200):
        async with world_for(settings, gate) as world:
            await flow.prepare(world)
            before = await snapshot(world.store)
            gate.arm(k, lost_reply=lost_reply)
            outcome = await flow.request(world)
            gate.disarm()
            if gate.failed is None:  # the flow made fewer than k calls: all have failed once
                assert succeeded(outcome), outcome and outcome.text
                await flow.completed(world)
                calls = k - 1
                break
            where = f"call {k} ({gate.failed}) failed"
            assert outcome is None or outcome.status_code in {200, 201, 204, 503}, (
                where,
                outcome.status_code,
                outcome.text,
            )
            await assert_invariants(world.store, where)
            if succeeded(outcome):
                await flow.completed(world)
            else:
                left = await snapshot(world.store)
                assert left == before, f"{where}: answered failed, but left changes"
            again = await flow.request(world)
            assert again is not None, f"{where}: the retry failed"
            assert again.status_code < 500, (where, again.text)
            await assert_invariants(world.store, f"{where}, then retried")
            await flow.completed(world)
    assert calls >= (1 if lost_reply else 2)
