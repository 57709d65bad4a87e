"""`Idempotency-Key`: a POST sent again with its key is answered, not run, again."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient, Response
from pymongo.errors import ConnectionFailure

from app.access.roles import Role
from app.config import Settings
from app.db.schema import IDEMPOTENCY_KEYS, ORGANIZATIONS, WORKSPACES
from app.db.store import Store
from app.factory import create_app
from app.idempotency.repository import (
    Claimed,
    IdempotencyRecords,
    InProgress,
    Replay,
    Reused,
    SavedResponse,
)
from app.idempotency.sealing import KeyIdentity, Sealer, request_digest
from app.organizations.service import OrganizationService
from tests.conftest import borrowed
from tests.support import EMAIL, NAME, PASSWORD, add_account, bearer, created_org

KEY = "5c1f3b9e-7a42-4d8e-9b61-0f2a8c7d4e13"
SIGN_UP = {"organization_name": NAME, "email": EMAIL, "password": PASSWORD}
PROBLEM = {"Accept": "application/problem+json"}


def keyed(key: str = KEY, **headers: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **headers}


async def sign_up(client: AsyncClient, key: str = KEY, **headers: str) -> Response:
    return await client.post("/org/create", json=SIGN_UP, headers=keyed(key, **headers))


async def records(store: Store) -> list[dict[str, Any]]:
    return await store.master[IDEMPOTENCY_KEYS].find({}).to_list()


async def v1_token(client: AsyncClient, email: str = EMAIL) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# Replays


async def test_a_repeated_sign_up_is_replayed_and_creates_one_organization(
    client: AsyncClient, store: Store
) -> None:
    first = await sign_up(client)
    second = await sign_up(client)

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert await store.master[ORGANIZATIONS].count_documents({}) == 1


async def test_the_same_json_written_differently_is_the_same_request(
    client: AsyncClient, store: Store
) -> None:
    first = await sign_up(client)
    reordered = json.dumps(dict(reversed(SIGN_UP.items())), indent=2)

    second = await client.post(
        "/org/create",
        content=reordered,
        headers=keyed(**{"Content-Type": "application/json"}),
    )

    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content
    assert await store.master[ORGANIZATIONS].count_documents({}) == 1


async def test_a_replayed_login_answers_the_same_token_which_is_not_stored_readably(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client)
    credentials = {"email": EMAIL, "password": PASSWORD}

    first = await client.post("/api/v1/auth/login", json=credentials, headers=keyed())
    second = await client.post("/api/v1/auth/login", json=credentials, headers=keyed())

    assert first.status_code == 200, first.text
    assert second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    token = first.json()["access_token"]
    (record,) = await records(store)
    assert record["state"] == "done"
    stored = bson.encode(record)
    for secret in (token, *token.split("."), PASSWORD, KEY):
        assert secret.encode() not in stored
    assert KEY not in record["_id"]


async def test_a_path_beyond_ascii_is_keyed_too(client: AsyncClient) -> None:
    path = "/api/v1/organizations/\u00e9t\U0010f854/workspaces"

    first = await client.post(path, json={"name": "Design"}, headers=keyed())
    second = await client.post(path, json={"name": "Design"}, headers=keyed())

    assert first.status_code == 401
    assert second.status_code == 401


# Refusals


async def test_the_same_key_with_another_body_is_refused(client: AsyncClient) -> None:
    await created_org(client)
    await client.post(
        "/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}, headers=keyed()
    )

    other = await client.post(
        "/api/v1/auth/login", json={"email": EMAIL, "password": "Other" + PASSWORD}, headers=keyed()
    )

    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert "idempotent-replayed" not in other.headers


async def test_the_same_key_on_another_path_is_refused(client: AsyncClient) -> None:
    await sign_up(client)

    other = await client.post(
        "/api/v1/auth/login",
        json={"email": EMAIL, "password": PASSWORD},
        headers=keyed(**PROBLEM),
    )

    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["type"] == "/errors/idempotency_key_reused"


async def test_another_caller_with_the_same_key_runs_on_its_own(
    client: AsyncClient, store: Store
) -> None:
    organization = await created_org(client)
    await add_account(store, organization["id"], "second@example.com", Role.ADMIN)
    owner = await v1_token(client)
    admin = await v1_token(client, "second@example.com")
    path = f"/api/v1/organizations/{organization['id']}/workspaces"

    first = await client.post(path, json={"name": "Design"}, headers=keyed(**bearer(owner)))
    second = await client.post(path, json={"name": "Design"}, headers=keyed(**bearer(admin)))

    assert first.status_code == 201, first.text
    # Ran for the second caller: the name is taken by now. Not the first caller's answer.
    assert second.status_code == 409
    assert second.json()["code"] == "workspace_name_taken"
    assert "idempotent-replayed" not in second.headers
    # A conflict is not saved: the second caller may retry the key with a free name.
    other = await client.post(path, json={"name": "Sales"}, headers=keyed(**bearer(admin)))
    assert other.status_code == 201, other.text
    assert len(await records(store)) == 2


# Concurrency


async def test_concurrent_requests_with_one_key_run_once(
    client: AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, entered_twice, release = asyncio.Event(), asyncio.Event(), asyncio.Event()
    calls = 0
    create = OrganizationService.create

    async def held(self: OrganizationService, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        (entered_twice if calls > 1 else entered).set()
        await release.wait()
        return await create(self, *args)

    async def first_of(request: "asyncio.Task[Response]", event: asyncio.Event) -> None:
        waiting = asyncio.create_task(event.wait())
        await asyncio.wait({request, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()

    monkeypatch.setattr(OrganizationService, "create", held)
    first = asyncio.create_task(sign_up(client))
    await first_of(first, entered)
    assert entered.is_set(), "the first request never reached the handler"

    # While the first is held inside the handler, the same key must not get in.
    busy = asyncio.create_task(sign_up(client, **PROBLEM))
    await first_of(busy, entered_twice)
    release.set()
    assert not entered_twice.is_set(), "a second request with the key ran the handler"
    created = await first
    again = await sign_up(client)

    assert busy.result().status_code == 409
    assert busy.result().json()["code"] == "idempotency_request_in_progress"
    assert int(busy.result().headers["retry-after"]) >= 1
    assert created.status_code == 201, created.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == created.content
    assert calls == 1
    assert await store.master[ORGANIZATIONS].count_documents({}) == 1


# What is not saved


async def test_a_validation_failure_is_not_saved(client: AsyncClient, store: Store) -> None:
    refused = await client.post(
        "/org/create", json={**SIGN_UP, "email": "not an email"}, headers=keyed()
    )
    corrected = await sign_up(client)

    assert refused.status_code == 400
    assert corrected.status_code == 201, corrected.text
    assert "idempotent-replayed" not in corrected.headers


@pytest.mark.parametrize(
    ("failure", "status"), [(RuntimeError("boom"), 500), (ConnectionFailure("gone"), 503)]
)
async def test_a_server_error_is_not_saved_and_the_retry_runs(
    client: AsyncClient,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    status: int,
) -> None:
    create = OrganizationService.create
    failures = [failure]

    async def flaky(self: OrganizationService, *args: Any) -> Any:
        if failures:
            raise failures.pop()
        return await create(self, *args)

    monkeypatch.setattr(OrganizationService, "create", flaky)

    failed = await sign_up(client)
    assert failed.status_code == status
    assert await records(store) == []
    retried = await sign_up(client)
    replayed = await sign_up(client)

    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert replayed.headers["idempotent-replayed"] == "true"
    assert await store.master[ORGANIZATIONS].count_documents({}) == 1


async def test_an_unsaved_client_error_like_401_runs_again(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client)
    wrong = {"email": EMAIL, "password": "Wrong" + PASSWORD}

    first = await client.post("/api/v1/auth/login", json=wrong, headers=keyed())
    second = await client.post("/api/v1/auth/login", json=wrong, headers=keyed())

    assert first.status_code == second.status_code == 401
    assert "idempotent-replayed" not in second.headers
    assert await records(store) == []


async def test_a_refusal_after_the_endpoint_ran_is_saved_and_replayed(
    client: AsyncClient, store: Store
) -> None:
    organization = await created_org(client)
    owner = await v1_token(client)
    path = f"/api/v1/organizations/{organization['id']}/members/transfer-ownership"
    body = {"account_id": "0" * 24}

    missing = await client.post(path, json=body, headers=keyed(**bearer(owner)))
    again = await client.post(path, json=body, headers=keyed(**bearer(owner)))

    assert missing.status_code == 404
    assert again.status_code == 404
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == missing.content


async def test_a_conflict_is_not_saved_so_a_retry_meets_the_state_of_then(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client)

    taken = await sign_up(client)
    again = await sign_up(client)

    assert taken.status_code == 409
    assert again.status_code == 409
    assert "idempotent-replayed" not in again.headers
    assert await records(store) == []


# Malformed keys


@pytest.mark.parametrize(
    "key",
    [b"", b"   ", b"k" * 256, "cl\u00e9".encode(), b"tab\tkey", b"del\x7f"],
    ids=["empty", "blank", "too-long", "not-ascii", "control", "delete"],
)
async def test_a_malformed_key_is_refused_before_anything_runs(
    client: AsyncClient, store: Store, key: bytes
) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": EMAIL, "password": PASSWORD},
        headers=[(b"Idempotency-Key", key)],
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_idempotency_key"
    assert [item["loc"] for item in body["detail"]] == [["header", "idempotency-key"]]
    assert await records(store) == []


async def test_a_malformed_key_on_sign_up_creates_nothing(
    client: AsyncClient, store: Store
) -> None:
    response = await sign_up(client, "k" * 256, **PROBLEM)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert response.json()["errors"][0]["loc"] == ["header", "idempotency-key"]
    assert await store.master[ORGANIZATIONS].count_documents({}) == 0


async def test_two_keys_are_refused(client: AsyncClient) -> None:
    response = await client.post(
        "/org/create",
        json=SIGN_UP,
        headers=[(b"Idempotency-Key", b"one"), (b"Idempotency-Key", b"two")],
    )

    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["header", "idempotency-key"]


async def test_the_longest_key_is_accepted(client: AsyncClient) -> None:
    first = await sign_up(client, "k" * 255)
    second = await sign_up(client, "k" * 255)

    assert first.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"


# Without a key, or where keys do not apply


async def test_requests_without_a_key_are_unaffected(client: AsyncClient, store: Store) -> None:
    first = await client.post("/org/create", json=SIGN_UP)
    second = await client.post("/org/create", json=SIGN_UP)

    assert first.status_code == 201
    assert second.status_code == 409
    assert "idempotent-replayed" not in second.headers
    assert await records(store) == []


async def test_a_key_on_an_uncovered_operation_is_ignored(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client)
    credentials = {"email": EMAIL, "password": PASSWORD}

    first = await client.post("/admin/login", json=credentials, headers=keyed())
    second = await client.post("/admin/login", json=credentials, headers=keyed())
    listed = await client.get(
        "/api/v1/auth/me", headers=keyed(**bearer(first.json()["access_token"]))
    )

    assert second.status_code == first.status_code == 200
    assert "idempotent-replayed" not in second.headers
    assert listed.status_code == 200
    assert await records(store) == []


# The published schema


def _covered(method: str, path: str) -> bool:
    # Written out again on purpose: the test must not share the predicate it checks.
    return method == "post" and (path.startswith("/api/v1/") or path == "/org/create")


@pytest.mark.parametrize(
    ("method", "path", "covered"),
    [
        ("post", "/org/create", True),
        ("post", "/api/v1/auth/login", True),
        ("post", "/api/v1/auth/switch", True),
        ("post", "/api/v1/invitations/accept", True),
        ("post", "/api/v1/organizations/{org_id}/workspaces", True),
        ("post", "/admin/login", False),
        ("put", "/org/update", False),
        ("delete", "/org/delete", False),
        ("get", "/org/get", False),
        ("get", "/api/v1/auth/me", False),
    ],
)
async def test_the_schema_declares_the_key_where_it_applies(
    client: AsyncClient, method: str, path: str, covered: bool
) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"][path][method]

    assert _declares_the_key(operation) is covered


async def test_every_covered_operation_and_no_other_declares_the_key(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    operations = [
        (method, path, operation)
        for path, methods in paths.items()
        for method, operation in methods.items()
    ]

    wrong = [
        f"{method.upper()} {path}"
        for method, path, operation in operations
        if _declares_the_key(operation) is not _covered(method, path)
    ]
    assert wrong == []
    assert sum(_covered(method, path) for method, path, _ in operations) > 10


def _declares_the_key(operation: dict[str, Any]) -> bool:
    parameters = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
    if not parameters:
        assert "422" not in operation["responses"]
        return False
    (parameter,) = parameters
    assert parameter["in"] == "header"
    assert parameter["required"] is False
    assert parameter["schema"] == {"type": "string", "maxLength": 255}
    assert parameter["description"].startswith("Send the same key to retry safely")
    responses = operation["responses"]
    assert "idempotency_request_in_progress" in responses["409"]["description"]
    assert "idempotency_key_reused" in responses["422"]["description"]
    successes = [response for status, response in responses.items() if status.startswith("2")]
    assert successes
    assert all("Idempotent-Replayed" in response["headers"] for response in successes)
    return True


# The records themselves


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


SECRET = "a-test-secret-that-is-long-enough-0123456789"
ANSWER = SavedResponse(201, [(b"content-type", b"application/json")], b'{"id": 1}')


def _records(store: Store, clock: Callable[[], datetime], *secrets: str) -> IdempotencyRecords:
    return IdempotencyRecords(store, secrets or (SECRET,), clock=clock)


async def test_a_dead_processs_claim_is_taken_over_once_its_lock_is_stale(store: Store) -> None:
    clock = Clock()
    repository = _records(store, clock)
    identity = KeyIdentity.of("Bearer someone", KEY)
    digest = request_digest("POST", "/api/v1/things", b"{}")

    first = await repository.claim(identity, digest)
    clock.advance(seconds=30)
    while_fresh = await repository.claim(identity, digest)
    clock.advance(seconds=31)
    taken = await repository.claim(identity, digest)
    after_takeover = await repository.claim(identity, digest)

    assert isinstance(first, Claimed)
    assert isinstance(while_fresh, InProgress)
    assert isinstance(taken, Claimed)
    assert taken.owner != first.owner
    assert isinstance(after_takeover, InProgress)
    # The first process's late answer is not saved over the request that took its place.
    assert await repository.complete(first, SavedResponse(500, [], b"late")) is False
    assert await repository.complete(taken, ANSWER) is True
    assert await repository.claim(identity, digest) == Replay(ANSWER)
    other = request_digest("POST", "/api/v1/things", b'{"a": 1}')
    assert isinstance(await repository.claim(identity, other), Reused)


class FinishesAfterRead:
    """The collection, where the first `find_one` lets something happen right after it read."""

    def __init__(self, collection: Any, meanwhile: Callable[[], Awaitable[object]]) -> None:
        self._collection = collection
        self._meanwhile: Callable[[], Awaitable[object]] | None = meanwhile

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def find_one(self, *args: Any, **kwargs: Any) -> Any:
        found = await self._collection.find_one(*args, **kwargs)
        if self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            await meanwhile()
        return found


async def test_a_takeover_loses_to_a_slow_request_that_finishes_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    slow = _records(store, clock)
    identity = KeyIdentity.of(None, KEY)
    first = await slow.claim(identity, b"request")
    assert isinstance(first, Claimed)
    clock.advance(seconds=61)
    retry = _records(store, clock)
    monkeypatch.setattr(
        retry,
        "_records",
        FinishesAfterRead(store.master[IDEMPOTENCY_KEYS], lambda: slow.complete(first, ANSWER)),
    )

    # The retry read a stale lock, but the slow request saved its answer before the takeover.
    outcome = await retry.claim(identity, b"request")

    assert outcome == Replay(ANSWER)


async def test_an_expired_record_is_forgotten(store: Store) -> None:
    clock = Clock()
    repository = _records(store, clock)
    identity = KeyIdentity.of(None, KEY)
    claim = await repository.claim(identity, b"first")
    assert isinstance(claim, Claimed)
    await repository.complete(claim, ANSWER)

    clock.advance(hours=25)

    assert isinstance(await repository.claim(identity, b"second"), Claimed)


async def test_answers_outlive_a_key_rotation_that_keeps_the_old_secret(store: Store) -> None:
    clock = Clock()
    identity = KeyIdentity.of(None, KEY)
    before = _records(store, clock)
    claim = await before.claim(identity, b"request")
    assert isinstance(claim, Claimed)
    await before.complete(claim, ANSWER)

    rotated = _records(store, clock, "a-new-secret-that-is-long-enough-9876543210", SECRET)
    forgotten = _records(store, clock, "a-new-secret-that-is-long-enough-9876543210")

    assert await rotated.claim(identity, b"request") == Replay(ANSWER)
    assert isinstance(await forgotten.claim(identity, b"request"), Reused)


def test_an_answer_opens_only_with_the_key_and_caller_it_was_sealed_for() -> None:
    sealer = Sealer([SECRET])
    identity = KeyIdentity.of("Bearer a", KEY)
    sealed = sealer.seal(identity, b"the answer")

    assert sealer.open(identity, sealed) == b"the answer"
    assert sealer.open(KeyIdentity.of("Bearer a", KEY + "x"), sealed) is None
    assert sealer.open(KeyIdentity.of("Bearer b", KEY), sealed) is None
    assert Sealer(["another-secret-that-is-long-enough-000000"]).open(identity, sealed) is None
    assert sealer.open(identity, sealed[:-1] + bytes([sealed[-1] ^ 1])) is None


def test_callers_keys_never_meet() -> None:
    assert KeyIdentity.of("Bearer a", KEY).record_id != KeyIdentity.of("Bearer b", KEY).record_id
    assert KeyIdentity.of(None, KEY).record_id != KeyIdentity.of("Bearer a", KEY).record_id
    assert "Bearer a" not in KeyIdentity.of("Bearer a", KEY).scope


async def test_workspace_store_is_untouched_by_refusals(client: AsyncClient, store: Store) -> None:
    organization = await created_org(client)
    token = await v1_token(client)
    path = f"/api/v1/organizations/{organization['id']}/workspaces"
    await client.post(path, json={"name": "Design"}, headers=keyed(**bearer(token)))
    before = await store.master[WORKSPACES].count_documents({})

    await client.post(path, json={"name": "Other"}, headers=keyed(**bearer(token)))

    assert await store.master[WORKSPACES].count_documents({}) == before


async def test_browsers_may_send_the_key_and_read_the_replay_header(
    settings: Settings, store: Store
) -> None:
    origin = "https://app.example.com"
    configured = settings.model_copy(update={"cors_origins": origin})
    app = create_app(configured, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://t") as client,
    ):
        preflight = await client.options(
            "/org/create",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, idempotency-key",
            },
        )
        await sign_up(client, Origin=origin)
        replayed = await sign_up(client, Origin=origin)

    assert preflight.status_code == 200
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
    assert replayed.headers["access-control-allow-origin"] == origin
    exposed = replayed.headers["access-control-expose-headers"].lower()
    assert "idempotent-replayed" in exposed
    assert replayed.headers["idempotent-replayed"] == "true"
