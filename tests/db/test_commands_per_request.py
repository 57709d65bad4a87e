"""Database commands per request, counted: what each request costs the database is decided
by the code, not by the machine, so it is asserted exactly.

Every call the service makes on the store passes a counting gate (the same one the fault
tests fail calls through); one call is one command on a real server (a `bulk_write` of one
collection is one `update`, an aggregation one `aggregate` while its answer fits one batch).
When a change makes a request cost more, this table says so; when it makes one cost less,
lower the figure here.
"""

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient, Response
from pydantic import SecretStr

from app.access.roles import Role
from app.config import ExplicitSettings
from app.db.memory import open_memory_store
from app.db.store import Store
from app.factory import create_app
from tests.conftest import NO_BACKGROUND_WORK, borrowed
from tests.crash import gated_store
from tests.support import EMAIL, NAME, PASSWORD, add_account, bearer, create_org, login


@dataclass
class Counter:
    counting: bool = False
    calls: list[str] = field(default_factory=list)

    def before(self, call: str) -> None:
        if self.counting:
            self.calls.append(call)

    def after(self, call: str) -> None:
        return None


@dataclass
class World:
    client: AsyncClient
    store: Store
    counter: Counter
    app: Any
    organization_id: str = ""
    owner: dict[str, str] = field(default_factory=dict)
    member: dict[str, str] = field(default_factory=dict)
    fresh: dict[str, str] = field(default_factory=dict)
    # A member whose role is a custom one, and an API key with that role.
    custom: dict[str, str] = field(default_factory=dict)
    custom_key: dict[str, str] = field(default_factory=dict)
    document_id: str = ""

    async def calls_of(self, request: Callable[[], Awaitable[Response]], status: int) -> list[str]:
        self.counter.calls, self.counter.counting = [], True
        try:
            response = await request()
        finally:
            self.counter.counting = False
        assert response.status_code == status, response.text
        return self.counter.calls

    async def post_from(self, address: str, path: str, body: dict[str, Any]) -> Response:
        transport = ASGITransport(app=self.app, client=(address, 4321))
        async with AsyncClient(transport=transport, base_url="http://test") as elsewhere:
            return await elsewhere.post(path, json=body)

    def documents(self, suffix: str = "") -> str:
        return f"/api/v1/organizations/{self.organization_id}/documents{suffix}"


@pytest.fixture
async def world() -> AsyncIterator[World]:
    settings = ExplicitSettings(
        mongo_uri="memory://",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        **NO_BACKGROUND_WORK,
    )
    store = open_memory_store(settings)
    counter = Counter()
    app = create_app(settings, store_opener=lambda _: gated_store(borrowed(store), counter))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        world = World(client, store, counter, manager.app)
        created = await create_org(client)
        assert created.status_code == 201, created.text
        world.owner = bearer(await login(client))
        me = (await client.get("/api/v1/auth/me", headers=world.owner)).json()
        world.organization_id = me["organization_id"]
        await add_account(store, world.organization_id, "member@techcorp.com", Role.MEMBER)
        await add_account(store, world.organization_id, "fresh@techcorp.com", Role.MEMBER)
        world.member = bearer(await login(client, "member@techcorp.com"))
        # Each token's first use records its membership's activity, once per interval: the
        # table counts the requests that follow, and the first one has its own row.
        await client.get("/api/v1/auth/me", headers=world.member)
        world.fresh = bearer(await login(client, "fresh@techcorp.com"))
        roles = f"/api/v1/organizations/{world.organization_id}/roles"
        reader = {"slug": "reader", "name": "Reader", "permissions": ["documents.read"]}
        defined = await client.post(roles, json=reader, headers=world.owner)
        assert defined.status_code == 201, defined.text
        await add_account(store, world.organization_id, "custom@techcorp.com", "reader")
        world.custom = bearer(await login(client, "custom@techcorp.com"))
        await client.get("/api/v1/auth/me", headers=world.custom)
        keys = f"/api/v1/organizations/{world.organization_id}/api-keys"
        key = await client.post(keys, json={"name": "ci", "role": "reader"}, headers=world.owner)
        world.custom_key = bearer(key.json()["secret"])
        # A key records its use once a minute: its first request has that write.
        await client.get(world.documents(), headers=world.custom_key)
        stored = await client.post(world.documents(), headers=world.owner, json={"n": 1})
        world.document_id = stored.json()["id"]
        yield world


def _login(email: str = EMAIL, password: str = PASSWORD) -> dict[str, Any]:
    return {"email": email, "password": password}


# (what, status, commands, the request)
Request = Callable[[World], Awaitable[Response]]
TABLE: list[tuple[str, int, int, Request]] = [
    (
        "a member's first request in an activity interval (records last_active_at)",
        403,
        2,
        lambda w: w.client.get(
            f"/api/v1/organizations/{w.organization_id}/audit-log", headers=w.fresh
        ),
    ),
    (
        "a token checked, then refused by its role",
        403,
        1,
        lambda w: w.client.get(
            f"/api/v1/organizations/{w.organization_id}/audit-log", headers=w.member
        ),
    ),
    (
        "a custom role's token checked, then refused by its permissions",
        403,
        1,
        lambda w: w.client.get(
            f"/api/v1/organizations/{w.organization_id}/audit-log", headers=w.custom
        ),
    ),
    (
        "a custom role's API key checked, then refused by its permissions",
        403,
        1,
        lambda w: w.client.post(w.documents(), headers=w.custom_key, json={"n": 9}),
    ),
    (
        "a document read by a custom role's holder",
        200,
        2,
        lambda w: w.client.get(w.documents(f"/{w.document_id}"), headers=w.custom),
    ),
    (
        "a document read by a custom role's API key",
        200,
        2,
        lambda w: w.client.get(w.documents(f"/{w.document_id}"), headers=w.custom_key),
    ),
    (
        "a document read by its owner",
        200,
        2,
        lambda w: w.client.get(w.documents(f"/{w.document_id}"), headers=w.owner),
    ),
    (
        "a document read by a member of its workspace",
        200,
        2,
        lambda w: w.client.get(w.documents(f"/{w.document_id}"), headers=w.member),
    ),
    ("a page of documents", 200, 3, lambda w: w.client.get(w.documents(), headers=w.owner)),
    (
        "a document created",
        201,
        4,
        lambda w: w.client.post(w.documents(), headers=w.owner, json={"n": 2}),
    ),
    (
        "a document created by a member",
        201,
        4,
        lambda w: w.client.post(w.documents(), headers=w.member, json={"n": 3}),
    ),
    (
        "a document replaced",
        200,
        5,
        lambda w: w.client.put(w.documents(f"/{w.document_id}"), headers=w.owner, json={"n": 4}),
    ),
    (
        "the organization with its statistics",
        200,
        4,
        lambda w: w.client.get(f"/api/v1/organizations/{w.organization_id}", headers=w.owner),
    ),
    (
        "a login from an address logged in from before",
        200,
        4,
        lambda w: w.client.post("/admin/login", json=_login()),
    ),
    (
        "a login from a new address (which becomes trusted)",
        200,
        5,
        lambda w: w.post_from("203.0.113.7", "/admin/login", _login()),
    ),
    (
        "a wrong password",
        401,
        4,
        lambda w: w.client.post("/admin/login", json=_login(password="not-the-password-1")),
    ),
    (
        "an organization looked up by name (contract)",
        200,
        2,
        lambda w: w.client.get("/org/get", params={"organization_name": NAME}),
    ),
    (
        # 3 of them record its `organization.created` event: the outbox's begin (opening
        # the organization's event stream) and its commit (the event, then the stream).
        "a sign-up",
        201,
        15,
        lambda w: create_org(w.client, "Second Corp", "second@example.com"),
    ),
]


@pytest.mark.parametrize(
    ("status", "commands", "request_of"),
    [pytest.param(status, n, request, id=what) for what, status, n, request in TABLE],
)
async def test_database_commands_per_request(
    world: World, status: int, commands: int, request_of: Request
) -> None:
    calls = await world.calls_of(lambda: request_of(world), status)

    assert len(calls) == commands, calls
