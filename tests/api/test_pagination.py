"""Cursor pagination on every list of the versioned API, through HTTP.

The OpenAPI document is read as the contract: every page-shaped answer must offer `cursor`,
`limit`, a bounded `offset` and a `Link` header, and every one of them must be walked below.
Each list is then walked with cursors (by `next_cursor` and by following `Link`), changed
between pages, and fed cursors it must refuse.
"""

import base64
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bson import ObjectId
from httpx import AsyncClient, Response

from app.access.roles import Role
from app.accounts.memberships import MembershipRepository
from app.config import Settings
from app.db.schema import API_KEYS, AUDIT_LOG, WEBHOOK_ATTEMPTS
from app.db.store import Store
from app.domains.models import JoinRequest, JoinRequestStatus
from app.domains.repository import JoinRequestRepository
from app.plans import Plan
from app.webhooks.models import Delivery, DeliveryState, Outcome
from app.webhooks.repository import DeliveryRepository
from tests.support import add_account, bearer, created_org, field_errors, login, tenants

Item = dict[str, Any]
LINK = re.compile(r'^<([^>]+)>; rel="next"$')
INITIAL = 7
_numbers = itertools.count()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No member limit, so an organization can hold as many invitations as a walk needs."""
    return settings.model_copy(update={"default_plan": Plan.ENTERPRISE})


@dataclass
class Listing:
    """One list as a client sees it, with ways to add an item to it and take one away."""

    client: AsyncClient
    url: str
    token: str
    add: Callable[[], Awaitable[None]]
    remove: Callable[[Item], Awaitable[None]]
    key: str = "id"
    params: dict[str, str] = field(default_factory=dict)
    # The same list under another filter or order, whose cursors are not this one's.
    other_params: dict[str, str] | None = None
    removable: Callable[[Item], bool] = lambda _: True

    async def get(self, **params: Any) -> Response:
        query = {**self.params, **{name: str(value) for name, value in params.items()}}
        return await self.client.get(self.url, params=query, headers=bearer(self.token))

    async def page(self, **params: Any) -> dict[str, Any]:
        response = await self.get(**params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert ("link" in response.headers) == (body["next_cursor"] is not None), response.headers
        return body

    async def everything(self) -> list[str]:
        body = await self.page(limit=100)
        assert body["next_cursor"] is None
        assert body["total"] == len(body["items"])
        return [item[self.key] for item in body["items"]]

    async def a_cursor(self) -> str:
        cursor: str | None = (await self.page(limit=1))["next_cursor"]
        assert cursor is not None
        return cursor


async def walk(
    listing: Listing,
    limit: int,
    *,
    follow_link: bool = False,
    between: Callable[[list[Item]], Awaitable[None]] | None = None,
) -> list[str]:
    """Every item's key, page after page, following cursors to the end."""
    response = await listing.get(limit=limit)
    seen: list[str] = []
    for _ in range(200):
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        assert body["limit"] == limit
        seen += [item[listing.key] for item in body["items"]]
        cursor = body["next_cursor"]
        link = response.headers.get("link")
        assert (link is None) == (cursor is None), (link, cursor)
        if cursor is None:
            return seen
        assert body["items"], "a page that goes on holds items"
        assert link is not None
        target = LINK.match(link)
        assert target is not None, link
        parts = urlsplit(target.group(1))
        query = parse_qs(parts.query)
        assert query["cursor"] == [cursor]
        assert "offset" not in query
        assert {name: values[0] for name, values in query.items() if name != "cursor"} == {
            **listing.params,
            "limit": str(limit),
        }
        if between is not None:
            await between(body["items"])
        if follow_link:
            response = await listing.client.get(target.group(1), headers=bearer(listing.token))
        else:
            response = await listing.get(limit=limit, cursor=cursor)
    raise AssertionError("the walk does not end")


# One organization per listing, with an owner who logs in by email.
async def organization(client: AsyncClient) -> tuple[str, str]:
    number = next(_numbers)
    email = f"owner{number}@example.com"
    created = await created_org(client, f"Paged Org {number}", email)
    return created["id"], await login(client, email)


async def fill(listing: Listing) -> Listing:
    for _ in range(INITIAL):
        await listing.add()
    return listing


async def my_organizations(client: AsyncClient, store: Store) -> Listing:
    _, token = await organization(client)
    me = ObjectId((await client.get("/admin/me", headers=bearer(token))).json()["admin_id"])
    memberships = MembershipRepository(store)

    async def add() -> None:
        other, _ = await organization(client)
        await memberships.add(me, ObjectId(other), Role.VIEWER)

    async def remove(item: Item) -> None:
        await memberships.remove_account_from(me, ObjectId(item["id"]))

    return await fill(Listing(client, "/api/v1/organizations", token, add, remove))


async def members(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)
    url = f"/api/v1/organizations/{org_id}/members"

    async def add() -> None:
        await add_account(store, org_id, f"member{next(_numbers)}@example.com", Role.VIEWER)

    async def remove(item: Item) -> None:
        response = await client.delete(f"{url}/{item['account_id']}", headers=bearer(token))
        assert response.status_code == 200, response.text

    listing = Listing(
        client,
        url,
        token,
        add,
        remove,
        key="account_id",
        other_params={"role": "viewer"},
        removable=lambda item: item["role"] != "owner",
    )
    return await fill(listing)


def _documents(descending: bool) -> Callable[[AsyncClient, Store], Awaitable[Listing]]:
    async def documents(client: AsyncClient, store: Store) -> Listing:
        org_id, token = await organization(client)
        url = f"/api/v1/organizations/{org_id}/documents"

        async def add() -> None:
            response = await client.post(url, json={"n": next(_numbers)}, headers=bearer(token))
            assert response.status_code == 201, response.text

        async def remove(item: Item) -> None:
            response = await client.delete(f"{url}/{item['id']}", headers=bearer(token))
            assert response.status_code == 200, response.text

        order = "desc" if descending else "asc"
        listing = Listing(
            client,
            url,
            token,
            add,
            remove,
            params={"order": order},
            other_params={"order": "asc" if descending else "desc"},
        )
        # A batch is stored at one instant: its documents differ only by `_id`.
        batch = {"documents": [{"batch": n} for n in range(INITIAL)]}
        response = await client.post(f"{url}/batch", json=batch, headers=bearer(token))
        assert response.status_code == 201, response.text
        await add()
        return listing

    return documents


async def audit_log(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)

    async def add() -> None:
        response = await client.patch(
            f"/api/v1/organizations/{org_id}",
            json={"display_name": f"Name {next(_numbers)}"},
            headers=bearer(token),
        )
        assert response.status_code == 200, response.text

    async def remove(item: Item) -> None:  # as the retention index does
        result = await store.master[AUDIT_LOG].delete_one({"_id": ObjectId(item["id"])})
        assert result.deleted_count == 1

    url = f"/api/v1/organizations/{org_id}/audit-log"
    listing = Listing(
        client, url, token, add, remove, other_params={"action": "organization.profile_update"}
    )
    return await fill(listing)


async def workspaces(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)
    url = f"/api/v1/organizations/{org_id}/workspaces"

    async def add() -> None:
        name = f"Workspace {next(_numbers)}"
        response = await client.post(url, json={"name": name}, headers=bearer(token))
        assert response.status_code == 201, response.text

    async def remove(item: Item) -> None:
        response = await client.delete(f"{url}/{item['id']}", headers=bearer(token))
        assert response.status_code == 200, response.text

    listing = Listing(
        client, url, token, add, remove, removable=lambda item: not item["is_default"]
    )
    return await fill(listing)


async def workspace_members(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)
    workspaces_url = f"/api/v1/organizations/{org_id}/workspaces"
    created = await client.post(workspaces_url, json={"name": "Team"}, headers=bearer(token))
    assert created.status_code == 201, created.text
    url = f"{workspaces_url}/{created.json()['id']}/members"

    async def add() -> None:
        account = await add_account(
            store, org_id, f"colleague{next(_numbers)}@example.com", Role.MEMBER
        )
        response = await client.put(
            f"{url}/{account}", json={"role": "editor"}, headers=bearer(token)
        )
        assert response.status_code == 200, response.text

    async def remove(item: Item) -> None:
        response = await client.delete(f"{url}/{item['account_id']}", headers=bearer(token))
        assert response.status_code == 200, response.text

    return await fill(Listing(client, url, token, add, remove, key="account_id"))


async def invitations(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)
    url = f"/api/v1/organizations/{org_id}/invitations"

    async def add() -> None:
        body = {"email": f"invitee{next(_numbers)}@example.com", "role": "viewer"}
        response = await client.post(url, json=body, headers=bearer(token))
        assert response.status_code == 201, response.text

    async def remove(item: Item) -> None:
        response = await client.delete(f"{url}/{item['id']}", headers=bearer(token))
        assert response.status_code == 200, response.text

    return await fill(Listing(client, url, token, add, remove))


async def api_keys(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)
    url = f"/api/v1/organizations/{org_id}/api-keys"

    async def add() -> None:
        body = {"name": f"key {next(_numbers)}", "role": "viewer"}
        response = await client.post(url, json=body, headers=bearer(token))
        assert response.status_code == 201, response.text

    async def remove(item: Item) -> None:  # as deleting the organization does
        result = await store.master[API_KEYS].delete_one({"_id": ObjectId(item["id"])})
        assert result.deleted_count == 1

    return await fill(Listing(client, url, token, add, remove))


async def domains(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)
    url = f"/api/v1/organizations/{org_id}/domains"

    async def add() -> None:
        body = {"domain": f"d{next(_numbers)}.paged.example"}
        response = await client.post(url, json=body, headers=bearer(token))
        assert response.status_code == 201, response.text

    async def remove(item: Item) -> None:
        response = await client.delete(f"{url}/{item['id']}", headers=bearer(token))
        assert response.status_code == 200, response.text

    return await fill(Listing(client, url, token, add, remove))


async def join_requests(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)
    url = f"/api/v1/organizations/{org_id}/join-requests"
    requests = JoinRequestRepository(store)

    async def add() -> None:  # as an account at a `suggest` domain asking does
        now = datetime.now(UTC)
        await requests.insert(
            JoinRequest(
                id=ObjectId(),
                organization_id=ObjectId(org_id),
                account_id=ObjectId(),
                email=f"asker{next(_numbers)}@paged.example",
                domain="paged.example",
                status=JoinRequestStatus.PENDING,
                created_at=now.replace(microsecond=now.microsecond // 1000 * 1000),
            )
        )

    async def remove(item: Item) -> None:  # as denying it does
        response = await client.post(f"{url}/{item['id']}/deny", headers=bearer(token))
        assert response.status_code == 200, response.text

    return await fill(Listing(client, url, token, add, remove))


async def webhook_endpoints(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)
    url = f"/api/v1/organizations/{org_id}/webhooks"

    async def add() -> None:
        body = {"url": f"https://hooks{next(_numbers)}.example.com/in"}
        response = await client.post(url, json=body, headers=bearer(token))
        assert response.status_code == 201, response.text

    async def remove(item: Item) -> None:
        response = await client.delete(f"{url}/{item['id']}", headers=bearer(token))
        assert response.status_code == 200, response.text

    return await fill(Listing(client, url, token, add, remove))


async def webhook_attempts(client: AsyncClient, store: Store) -> Listing:
    org_id, token = await organization(client)
    created = await client.post(
        f"/api/v1/organizations/{org_id}/webhooks",
        json={"url": "https://hooks.example.com/in"},
        headers=bearer(token),
    )
    endpoint_id = ObjectId(created.json()["id"])
    url = f"/api/v1/organizations/{org_id}/webhooks/{endpoint_id}/attempts"
    log = DeliveryRepository(store, timedelta(days=1))

    async def add() -> None:  # as the worker does after each attempt
        delivery = Delivery(
            id=f"evt_{next(_numbers)}:{endpoint_id}",
            organization_id=ObjectId(org_id),
            endpoint_id=endpoint_id,
            message_id="evt_x",
            event_type="organization.created",
            payload="{}",
            state=DeliveryState.PENDING,
            attempts=0,
            due_at=datetime.now(UTC),
            created_at=datetime.now(UTC),
        )
        await log.log(delivery, datetime.now(UTC), Outcome(500, 3.0))

    async def remove(item: Item) -> None:  # as the retention index does
        result = await store.master[WEBHOOK_ATTEMPTS].delete_one({"_id": ObjectId(item["id"])})
        assert result.deleted_count == 1

    return await fill(Listing(client, url, token, add, remove))


LISTS: dict[str, tuple[str, Callable[[AsyncClient, Store], Awaitable[Listing]]]] = {
    "my organizations": ("/api/v1/organizations", my_organizations),
    "members": ("/api/v1/organizations/{org_id}/members", members),
    "documents oldest first": ("/api/v1/organizations/{org_id}/documents", _documents(False)),
    "documents newest first": ("/api/v1/organizations/{org_id}/documents", _documents(True)),
    "audit log": ("/api/v1/organizations/{org_id}/audit-log", audit_log),
    "workspaces": ("/api/v1/organizations/{org_id}/workspaces", workspaces),
    "workspace members": (
        "/api/v1/organizations/{org_id}/workspaces/{workspace_id}/members",
        workspace_members,
    ),
    "invitations": ("/api/v1/organizations/{org_id}/invitations", invitations),
    "api keys": ("/api/v1/organizations/{org_id}/api-keys", api_keys),
    "domains": ("/api/v1/organizations/{org_id}/domains", domains),
    "join requests": ("/api/v1/organizations/{org_id}/join-requests", join_requests),
    "webhook endpoints": ("/api/v1/organizations/{org_id}/webhooks", webhook_endpoints),
    "webhook attempts": (
        "/api/v1/organizations/{org_id}/webhooks/{endpoint_id}/attempts",
        webhook_attempts,
    ),
}


# The lists that take a filter or an order of their own.
FILTERED = {"members", "documents oldest first", "documents newest first", "audit log"}


@pytest.fixture(params=sorted(LISTS))
async def listing(request: pytest.FixtureRequest, client: AsyncClient, store: Store) -> Listing:
    _, build = LISTS[request.param]
    return await build(client, store)


def _schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if reference is None:
        return schema
    found: dict[str, Any] = spec["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    return found


async def test_every_page_in_the_openapi_offers_cursors_and_is_tested(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    pages: set[str] = set()
    for path, operations in spec["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        ok = operation["responses"].get("200", {})
        schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
        properties = _schema(spec, schema).get("properties", {})
        if "items" not in properties:
            continue
        pages.add(path)
        assert "next_cursor" in properties, f"{path}: a list without next_cursor"
        query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
        assert {"cursor", "limit", "offset"} <= set(query), path
        assert query["cursor"]["description"], path
        assert query["offset"]["schema"]["maximum"] == 10_000, path
        assert query["limit"]["schema"]["maximum"] == 100, path
        assert "Link" in ok.get("headers", {}), f"{path}: the Link header is not declared"
        assert "next_cursor" in _schema(spec, schema)["required"], path

    # The platform API's lists are walked in tests/admin (platform keys, not tokens).
    platform = {path for path in pages if path.startswith("/api/v1/admin/")}
    assert platform == {
        "/api/v1/admin/organizations",
        "/api/v1/admin/accounts/{account_id}/organizations",
    }
    assert pages - platform == {path for path, _ in LISTS.values()}


async def test_cursors_visit_every_item_once_in_the_lists_order(listing: Listing) -> None:
    everything = await listing.everything()
    assert len(everything) >= INITIAL

    for limit in (1, 2, 3, len(everything), 100):
        assert await walk(listing, limit) == everything, limit
    assert await walk(listing, 2, follow_link=True) == everything
    last = await listing.page(limit=len(everything))
    assert last["next_cursor"] is None
    assert [item[listing.key] for item in last["items"]] == everything


async def test_the_first_page_by_offset_also_leads_on_by_cursor(listing: Listing) -> None:
    everything = await listing.everything()

    first = await listing.page(offset=2, limit=2)

    assert first["offset"] == 2
    assert first["total"] == len(everything)
    rest = await walk_from(listing, first)
    assert [item[listing.key] for item in first["items"]] + rest == everything[2:]


async def walk_from(listing: Listing, body: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    while body["next_cursor"] is not None:
        body = await listing.page(limit=body["limit"], cursor=body["next_cursor"])
        assert body["offset"] == 0
        seen += [item[listing.key] for item in body["items"]]
    return seen


async def test_inserts_and_deletes_between_pages_neither_repeat_nor_skip(
    listing: Listing,
) -> None:
    everything = await listing.everything()
    removable = {
        item[listing.key]
        for item in (await listing.page(limit=100))["items"]
        if listing.removable(item)
    }
    seen_so_far: list[str] = []
    deleted_unseen: set[str] = set()
    changes = itertools.count()

    async def change(page: list[Item]) -> None:
        seen_so_far.extend(item[listing.key] for item in page)
        step = next(changes)
        if step >= 6:
            return
        await listing.add()
        if step % 2 == 0:
            # The item the cursor points at: the position must hold without it.
            last = page[-1]
            if listing.removable(last):
                await listing.remove(last)
                removable.discard(last[listing.key])
            return
        # The first item the next page would hold.
        unseen = [k for k in everything if k not in seen_so_far and k in removable]
        if unseen:
            await listing.remove({listing.key: unseen[0]})
            removable.discard(unseen[0])
            deleted_unseen.add(unseen[0])

    seen = await walk(listing, 2, between=change)

    assert len(seen) == len(set(seen)), "an item was listed twice"
    assert deleted_unseen, "the walk removed no item ahead of it"
    survivors = [key for key in everything if key not in deleted_unseen]
    assert [key for key in seen if key in everything] == survivors


def _encode(body: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    )
    return decoded


async def test_garbage_and_tampered_cursors_are_refused(listing: Listing) -> None:
    cursor = await listing.a_cursor()
    body = _decode(cursor)
    assert set(body) == {"k", "f"}
    tampered = [
        "not a cursor!",
        "bm90IGpzb24",  # "not json"
        _encode([1, 2]),
        _encode({**body, "f": ("B" if body["f"][0] == "A" else "A") + body["f"][1:]}),
        _encode({**body, "k": ["not", "a", "position"]}),
        _encode({**body, "k": [None for _ in body["k"]]}),
        _encode({**body, "k": [True for _ in body["k"]]}),
        _encode({**body, "extra": 1}),
        cursor[:-3],
    ]

    for bad in tampered:
        response = await listing.get(cursor=bad)
        assert field_errors(response) == ["cursor"], bad
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert field_errors(await listing.get(cursor="")) == ["cursor"]
    assert field_errors(await listing.get(cursor="a" * 600)) == ["cursor"]
    assert (await listing.get(cursor=cursor)).status_code == 200


@pytest.mark.parametrize("name", sorted(FILTERED))
async def test_a_cursor_from_another_filter_or_order_is_refused(
    client: AsyncClient, store: Store, name: str
) -> None:
    listing = await LISTS[name][1](client, store)
    assert listing.other_params is not None
    cursor = await listing.a_cursor()

    response = await listing.get(cursor=cursor, **listing.other_params)

    assert field_errors(response) == ["cursor"]
    assert "another list" in response.json()["detail"][0]["msg"]


async def test_a_cursor_from_another_list_is_refused(client: AsyncClient, store: Store) -> None:
    listings = {name: await build(client, store) for name, (_, build) in LISTS.items()}
    cursors = {name: await listing.a_cursor() for name, listing in listings.items()}
    # Another organization's list of the same kind is another list too.
    second = await members(client, store)

    for (name, listing), (other, cursor) in itertools.product(listings.items(), cursors.items()):
        if name == other:
            continue
        response = await listing.get(cursor=cursor)
        assert field_errors(response) == ["cursor"], (name, other)
    response = await second.get(cursor=cursors["members"])
    assert field_errors(response) == ["cursor"]


async def test_offsets_are_bounded_and_do_not_mix_with_cursors(listing: Listing) -> None:
    cursor = await listing.a_cursor()

    assert field_errors(await listing.get(cursor=cursor, offset=1)) == ["cursor"]
    assert field_errors(await listing.get(offset=10_001)) == ["offset"]
    far = await listing.page(offset=10_000)
    assert (far["items"], far["next_cursor"]) == ([], None)
    assert (await listing.get(cursor=cursor, offset=0)).status_code == 200


async def test_documents_in_another_order_page_by_offset_only(
    client: AsyncClient, store: Store
) -> None:
    listing = await _documents(False)(client, store)
    cursor = await listing.a_cursor()

    by_n = await listing.page(sort="n", limit=2)
    refused = await listing.get(sort="n", cursor=cursor)

    assert by_n["total"] > 2
    assert by_n["next_cursor"] is None
    assert field_errors(refused) == ["cursor"]
    assert "sort=created_at" in refused.json()["detail"][0]["msg"]


async def test_a_member_walks_the_documents_of_their_workspace(
    client: AsyncClient, store: Store
) -> None:
    org_id, owner = await organization(client)
    url = f"/api/v1/organizations/{org_id}/documents"
    await add_account(store, org_id, "walker@example.com", Role.MEMBER)
    member = await login(client, "walker@example.com")
    for n in range(5):
        response = await client.post(url, json={"n": n}, headers=bearer(member))
        assert response.status_code == 201, response.text
    listing = Listing(client, url, member, _nothing, _nothing_removed)

    everything = await listing.everything()
    assert len(everything) == 5
    assert await walk(listing, 2) == everything
    # The owner's view (every workspace) is another list.
    owners = Listing(client, url, owner, _nothing, _nothing_removed)
    assert field_errors(await owners.get(cursor=await listing.a_cursor())) == ["cursor"]


async def _nothing() -> None:
    return None


async def _nothing_removed(_: Item) -> None:
    return None


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_documents_without_created_at_are_walked_too(
    client: AsyncClient, store: Store, order: str
) -> None:
    listing = await _documents(order == "desc")(client, store)
    org = await client.get(listing.url.removesuffix("/documents"), headers=bearer(listing.token))
    collection = tenants(store)[org.json()["tenant_collection"]]
    default = await collection.find_one({})
    assert default is not None
    # As an import from elsewhere may leave them: no `created_at`, or null.
    await collection.insert_many(
        [{"workspace_id": default["workspace_id"], "version": 1, "legacy": n} for n in range(3)]
        + [{"workspace_id": default["workspace_id"], "version": 1, "created_at": None}]
    )

    everything = await listing.everything()

    assert len(everything) == INITIAL + 1 + 4
    for limit in (1, 2, 3):
        assert await walk(listing, limit) == everything, limit
