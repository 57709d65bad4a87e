"""No query the service sends would make a real server scan a collection.

The in-memory store scans for every query, so a missing index never shows in a test's speed.
Here every filtered call is recorded (`tests.queries`) while one broad scenario runs: start-up
on an empty store and again on a full one, every feature through the HTTP API, the operator
operations, the recovery sweep and the capacity count. Each recorded query must be served by
an index its collection declares (`app/db/schema.py`, the audit log's in `app/audit/trail.py`,
`TENANT_INDEXES` for tenant collections), or be in `DELIBERATE_SCANS` with its reason.
"""

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.access.roles import Role
from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from app.observability.metrics import Metrics
from app.operations.organizations import describe_organization, list_organizations
from app.operations.placement import move_organization, plan_rebalance
from app.operations.platform_keys import create_platform_key
from app.operations.repair import repair
from app.operations.statistics import gather_statistics
from app.operations.transfer import export_tenant, import_tenant
from app.operations.verify import verify
from app.organizations.lifecycle import Lifecycle, no_checkpoint
from app.organizations.retention import PurgeSweep
from app.platform.models import PlatformScope
from app.registry.repository import OrganizationFilter, OrganizationRepository
from app.registry.tenants import TENANT_INDEXES
from app.startup import prepare_database, start_services
from tests.conftest import borrowed
from tests.domains.dns_server import Zone, serving
from tests.outbox import Outbox
from tests.queries import Index, Query, Recorder, recording_store, served_by
from tests.support import EMAIL, PASSWORD, add_account, bearer, created_org, login, rename

# Queries no index serves, on purpose, each bounded by what it is for: (collection, who sends
# it, the call and its shape) -> why. A new query, or one of these sent from elsewhere or in
# another shape, fails the test. `<tenant>` stands for any tenant collection.
_MIGRATION = "a migration: runs until a start finds nothing to change, then never (its marker)"
_OPERATOR = "an operator command over the whole registry, run by hand, meant to read it all"
DELIBERATE_SCANS: dict[tuple[str, str, str], str] = {
    (
        "accounts",
        "accounts.repository.legacy_roles < members.migration.migrate_to_memberships",
        "find R[role]",
    ): _MIGRATION,
    (
        "accounts",
        "accounts.repository.mark_unverified_where_unknown"
        " < email_verification.migration.migrate_to_email_verification",
        "update_many R[email_verified_at]",
    ): _MIGRATION,
    (
        "organizations",
        "registry.repository.without_owner_count < members.migration.migrate_to_memberships",
        "find R[owner_count]",
    ): _MIGRATION,
    (
        "organizations",
        "registry.repository.settled_namespaces < startup.ensure_tenant_indexes",
        "find E[state] R[pending_move,pending_rename,tenant_collection]",
    ): _MIGRATION,
    (
        "organizations",
        "registry.repository.all_documents < operations.verify.verify",
        "find everything",
    ): _OPERATOR,
    ("identifier_claims", "registry.claims.all < operations.verify.verify", "find everything"): (
        _OPERATOR
    ),
    (
        "memberships",
        "accounts.memberships.counts_by_organization < operations.verify.verify",
        "aggregate E[role] [$match,$group]",
    ): _OPERATOR,
    (
        "organizations",
        "registry.repository.all_documents < operations.statistics._tenant_sizes",
        "find everything",
    ): _OPERATOR,
    (
        "organizations",
        "registry.repository.count_by < operations.statistics.gather_statistics",
        "aggregate everything [$group]",
    ): _OPERATOR,
    (
        "organizations",
        "registry.repository.search < operations.registry.list_organizations",
        "find E[state] S[name_key:1]",
    ): _OPERATOR,
    (
        "organizations",
        "registry.repository.search < operations.registry.list_organizations",
        "find S[name_key:1]",
    ): _OPERATOR,
    # Exact counts of one organization's collection where the number is the answer: what a
    # rename moved (`documents_migrated`), what a copy holds before the registry switches to
    # it, what an operator's report shows. Each reads one collection once per operation.
    (
        "<tenant>",
        "registry.tenants.count < organizations.lifecycle.finish_rename",
        "count_documents everything",
    ): "a rename's documents_migrated",
    (
        "<tenant>",
        "registry.tenants.count < organizations.lifecycle.roll_back_rename",
        "count_documents everything",
    ): "a rename that cannot finish answers what the collection holds",
    (
        "<tenant>",
        "registry.tenants.count < organizations.lifecycle.finish_move",
        "count_documents everything",
    ): "a finished move reports what it moved",
    ("<tenant>", "registry.tenants.count < registry.tenants.copy", "count_documents everything"): (
        "a copy checks it holds every document before the registry switches to it"
    ),
    (
        "<tenant>",
        "registry.tenants.count < operations.organizations._tenant_report",
        "count_documents everything",
    ): _OPERATOR,
    # Lists sorted on a field other than `created_at` (offset only): the server reads the
    # organization's (or workspace's) documents and keeps the best `offset + limit` (at most
    # 10,100) in memory. `created_at`, the default, is the indexed order.
    (
        "<tenant>",
        "documents.repository.page < documents.service.list",
        "find S[updated_at:1,_id:1]",
    ): "sorting on updated_at or version is documented as the unindexed order",
    # A rename waiting for writes: the index's prefix narrows to the organization's few
    # leases; whether each is still live is a comparison with the server's clock (`$expr`).
    (
        "tenant_write_leases",
        "registry.write_leases.wait_until_drained < organizations.lifecycle._drain_writes",
        "count_documents E[organization_id] R[$expr]",
    ): "live leases are told apart on the server's clock, after the organization's index",
    (
        "<tenant>",
        "documents.repository.page < documents.service.read",
        "find S[updated_at:1,_id:1]",
    ): "the same list, read once more where a rename moved the collection",
    # `where` on the organization's own fields across every workspace: nothing narrows the
    # count but the collection, which is one organization's; it stops at 10,001.
    (
        "<tenant>",
        "documents.repository._total < documents.repository.page",
        "count_documents everything",
    ): "a filter on the organization's own fields, counted up to the cap",
}
# The delivery worker's claim: `state_due` finds the due deliveries in order; the lease
# (`$expr` on `$$NOW`, no index can hold it) and the endpoints at their limit are checked on
# the first due ones it reads.
_CLAIM = "the due deliveries by state_due; the lease and busy endpoints checked on those read"
DELIBERATE_SCANS.update(
    {
        (
            "webhook_deliveries",
            "webhooks.repository.claim < webhooks.worker.start_attempts",
            f"find_one_and_update E[state] S[state:1,due_at:1] R[{ranges}]",
        ): _CLAIM
        for ranges in ("$expr,due_at", "$expr,due_at,endpoint_id")
    }
)
# Fields of a tenant document the service itself writes; the rest are the organization's own,
# on which `where` filters equality among what the scope's index finds.
SERVER_FIELDS = frozenset({"_id", "workspace_id", "created_at", "updated_at", "version"})


@pytest.fixture
def dns() -> Iterator[tuple[Zone, int]]:
    with serving() as served:
        yield served


@pytest.fixture
def settings(settings: Settings, dns: tuple[Zone, int]) -> Settings:
    return settings.model_copy(update={"dns_nameservers": [f"127.0.0.1:{dns[1]}"]})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def recorded(store: Store, recorder: Recorder) -> Store:
    return recording_store(borrowed(store), recorder)


@pytest.fixture
def app(settings: Settings, recorded: Store, outbox: Outbox) -> FastAPI:
    return create_app(settings, store_opener=lambda _: recorded)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client


def ok(response: Any) -> Any:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    json = response.headers.get("content-type", "").startswith("application/json")
    return response.json() if json else None


async def domains_and_joining(
    client: AsyncClient, store: Store, outbox: Outbox, zone: Zone, base: str, owner: dict[str, str]
) -> None:
    """Domains added, verified, changed and removed; accounts at them joining and asking."""
    domains = f"{base}/domains"
    policies = {"techcorp.com": "auto", "ask.techcorp.com": "suggest"}
    for name, policy in policies.items():
        domain = ok(await client.post(domains, json={"domain": name}, headers=owner))
        zone.publish(domain["record"]["name"], domain["record"]["value"])
        ok(await client.post(f"{domains}/{domain['id']}/verify", headers=owner))
        ok(
            await client.patch(
                f"{domains}/{domain['id']}", json={"join_policy": policy}, headers=owner
            )
        )
    listed = ok(await client.get(domains, params={"limit": 1}, headers=owner))
    ok(await client.get(domains, params={"cursor": listed["next_cursor"]}, headers=owner))
    ok(await client.get(f"{domains}/{listed['items'][0]['id']}", headers=owner))
    people = {}
    for email in ("joiner@techcorp.com", "asker@ask.techcorp.com", "other@ask.techcorp.com"):
        await created_org(client, f"Home of {email}", email)
        people[email] = bearer(await login(client, email))
        ok(await client.post("/api/v1/auth/email-verification", headers=people[email]))
        token = {"token": outbox.last_token_for(email)}
        ok(await client.post("/api/v1/auth/email-verification/confirm", json=token))
        ok(await client.get("/api/v1/organizations/joinable", headers=people[email]))
        ok(await client.post(f"{base}/join", headers=people[email]))
    requests = f"{base}/join-requests"
    waiting = ok(await client.get(requests, params={"limit": 1}, headers=owner))
    ok(await client.get(requests, params={"cursor": waiting["next_cursor"]}, headers=owner))
    first = waiting["items"][0]["id"]
    ok(await client.get(f"{requests}/{first}", headers=owner))
    ok(await client.post(f"{requests}/{first}/approve", headers=owner))
    rest = ok(await client.get(requests, headers=owner))["items"]
    ok(await client.post(f"{requests}/{rest[0]['id']}/deny", headers=owner))
    extra = ok(await client.post(domains, json={"domain": "gone.techcorp.com"}, headers=owner))
    ok(await client.delete(f"{domains}/{extra['id']}", headers=owner))


async def scenario(
    client: AsyncClient, store: Store, outbox: Outbox, settings: Settings, zone: Zone
) -> None:
    """One organization's life through the HTTP API, beside a second one."""
    created = await created_org(client)
    await created_org(client, "Bystander Corp", "owner@bystander.example")
    org, token = created["id"], await login(client)
    base = f"/api/v1/organizations/{org}"
    owner = bearer(token)
    ok(await client.get("/org/get", params={"organization_name": created["organization_name"]}))
    failed = await client.post(
        "/api/v1/auth/login", json={"email": EMAIL, "password": "Wrong-Password-1"}
    )
    assert failed.status_code == 401
    ok(await client.get("/api/v1/auth/me", headers=owner))
    ok(await client.post("/api/v1/auth/email-verification", headers=owner))
    verification = {"token": outbox.last_token_for(EMAIL)}
    ok(await client.post("/api/v1/auth/email-verification/confirm", json=verification))
    ok(await client.get("/api/v1/organizations", headers=owner))
    ok(await client.get(base, headers=owner))
    ok(await client.patch(base, json={"description": "Widgets"}, headers=owner))

    for number in range(1):
        await add_account(store, org, f"member{number}@techcorp.example", Role.MEMBER)
    admin_id = await add_account(store, org, "admin@techcorp.example", Role.ADMIN)
    listed = ok(await client.get(f"{base}/members", params={"limit": 2}, headers=owner))
    ok(await client.get(f"{base}/members", params={"cursor": listed["next_cursor"]}, headers=owner))
    ok(await client.get(f"{base}/members", params={"role": "member"}, headers=owner))
    ok(await client.patch(f"{base}/members/{admin_id}", json={"role": "member"}, headers=owner))

    roles = f"{base}/roles"
    ok(await client.get("/api/v1/permissions", headers=owner))
    reader = {"slug": "reader", "name": "Reader", "permissions": ["documents.read"]}
    ok(await client.post(roles, json=reader, headers=owner))
    ok(await client.post(roles, json={**reader, "slug": "spare"}, headers=owner))
    ok(await client.get(roles, headers=owner))
    ok(await client.get(f"{roles}/reader", headers=owner))
    ok(await client.patch(f"{roles}/reader", json={"name": "Readers"}, headers=owner))
    reader_id = await add_account(store, org, "reader@techcorp.example", "reader")
    reader_token = bearer(await login(client, "reader@techcorp.example"))
    ok(await client.get(f"{base}/documents", headers=reader_token))
    ok(await client.get(f"{base}/members", params={"role": "reader"}, headers=owner))
    ok(await client.post(f"{base}/api-keys", json={"name": "ci", "role": "reader"}, headers=owner))
    ok(await client.patch(f"{base}/members/{reader_id}", json={"role": "spare"}, headers=owner))
    refused = await client.delete(f"{roles}/spare", headers=owner)
    assert refused.status_code == 409, refused.text
    ok(await client.delete(f"{roles}/spare", params={"replacement": "reader"}, headers=owner))
    ok(await client.delete(f"{roles}/reader", params={"replacement": "viewer"}, headers=owner))
    ok(await client.delete(f"{base}/members/{reader_id}", headers=owner))  # its seat back

    invited = ok(
        await client.post(
            f"{base}/invitations",
            json={"email": "new@techcorp.example", "role": "viewer"},
            headers=owner,
        )
    )
    ok(await client.get(f"{base}/invitations", headers=owner))
    ok(await client.post(f"{base}/invitations/{invited['id']}/resend", headers=owner))
    joined = ok(
        await client.post(
            "/api/v1/invitations/accept",
            json={
                "token": outbox.last_token_for("new@techcorp.example"),
                "password": "Joined-Pw-12",
            },
        )
    )
    other = ok(
        await client.post(
            f"{base}/invitations",
            json={"email": "later@techcorp.example", "role": "member"},
            headers=owner,
        )
    )
    ok(await client.delete(f"{base}/invitations/{other['id']}", headers=owner))

    sales = ok(await client.post(f"{base}/workspaces", json={"name": "Sales"}, headers=owner))
    workspaces = f"{base}/workspaces"
    ok(await client.get(workspaces, headers=owner))
    ok(await client.get(f"{workspaces}/{sales['id']}", headers=owner))
    ok(
        await client.put(
            f"{workspaces}/{sales['id']}/members/{admin_id}", json={"role": "editor"}, headers=owner
        )
    )
    ok(await client.get(f"{workspaces}/{sales['id']}/members", headers=owner))
    switched = ok(
        await client.post(
            "/api/v1/auth/switch",
            json={"organization_id": org, "workspace_id": sales["id"]},
            headers=owner,
        )
    )
    in_sales = bearer(switched["access_token"])

    documents = f"{base}/documents"
    for number in range(5):
        ok(await client.post(documents, json={"n": number, "kind": "deal"}, headers=in_sales))
    ok(
        await client.post(
            f"{documents}/batch", json={"documents": [{"n": 9}, {"n": 10}]}, headers=owner
        )
    )
    lists: list[dict[str, str | int]] = [
        {"limit": 2},
        {"limit": 2, "order": "desc"},
        {"workspace_id": sales["id"], "limit": 2},
        {"workspace_id": sales["id"], "limit": 2, "order": "desc"},
        {"sort": "updated_at"},
        {"where": '{"kind": "deal"}'},
    ]
    for params in lists:
        first = ok(await client.get(documents, params=params, headers=owner))
        if first["next_cursor"]:
            onward = {**params, "cursor": first["next_cursor"]}
            ok(await client.get(documents, params=onward, headers=owner))
    ok(await client.get(documents, params={"limit": 2, "order": "desc"}, headers=in_sales))
    document = first["items"][0]
    path = f"{documents}/{document['id']}"
    ok(await client.get(path, headers=owner))
    ok(await client.put(path, json={"n": 99}, headers=owner))
    ok(await client.patch(path, json={"kind": None}, headers=owner))
    ok(await client.delete(path, headers=owner))

    ok(await client.get(f"{base}/billing", headers=owner))
    ok(await client.patch(f"{base}/billing", json={"billing_email": "ap@x.example"}, headers=owner))
    audit = f"{base}/audit-log"
    listed = ok(await client.get(audit, params={"limit": 2}, headers=owner))
    ok(await client.get(audit, params={"cursor": listed["next_cursor"]}, headers=owner))
    ok(await client.get(audit, params={"action": "member.role_change"}, headers=owner))
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    ok(await client.get(audit, params={"since": since}, headers=owner))

    ok(await client.post(f"{base}/suspend", headers=owner))
    ok(await client.post(f"{base}/reactivate", headers=owner))
    ok(await rename(client, token, "Tech Innovations Corp 2.0"))
    ok(
        await client.delete(
            f"{workspaces}/{sales['id']}", params={"confirm": "true"}, headers=owner
        )
    )
    ok(await client.post(f"{base}/members/leave", headers=bearer(joined["access_token"])))
    ok(await client.get("/metrics"))
    hooks = f"{base}/webhooks"
    # A name that never resolves: the worker's attempt is refused without leaving the host.
    endpoint = ok(
        await client.post(
            hooks,
            json={"url": "https://hooks.invalid/in", "types": ["*", "document.*"]},
            headers=owner,
        )
    )["id"]
    ok(await client.post(f"{base}/documents", json={"n": 1}, headers=owner))
    ok(await client.get(hooks, headers=owner))
    ok(await client.patch(f"{hooks}/{endpoint}", json={"description": "sync"}, headers=owner))
    ok(await client.post(f"{hooks}/{endpoint}/rotate-secret", json={}, headers=owner))
    ok(await client.post(f"{hooks}/{endpoint}/test", headers=owner))
    first = ok(await client.get(f"{base}/events", headers=owner))["events"][0]["id"]
    ok(await client.get(f"{base}/events", params={"after": first}, headers=owner))
    ok(await client.get(f"{base}/events/{first}", headers=owner))
    ok(await client.post(f"{hooks}/{endpoint}/redeliver", json={"event_id": first}, headers=owner))
    ok(
        await client.post(
            f"{hooks}/{endpoint}/replay",
            json={"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
            headers=owner,
        )
    )
    ok(await client.get(f"{hooks}/{endpoint}/attempts", headers=owner))

    await platform_calls(client, store, settings, admin_id)
    await domains_and_joining(client, store, outbox, zone, base, owner)

    doomed = await created_org(client, "Doomed Corp", "owner@doomed.example")
    doomed_token = await login(client, "owner@doomed.example")
    ok(
        await client.request(
            "DELETE",
            "/org/delete",
            json={"organization_name": doomed["organization_name"]},
            headers=bearer(doomed_token),
        )
    )

    trashed = await created_org(client, "Trashed Corp", "owner@trashed.example")
    trashed_path = f"/api/v1/organizations/{trashed['id']}"
    trashed_owner = bearer(await login(client, "owner@trashed.example"))
    # Its endpoint is held while it is deleted, woken by the restore, retired by the purge.
    ok(
        await client.post(
            f"{trashed_path}/webhooks",
            json={"url": "https://hooks.invalid/trashed", "types": ["*"]},
            headers=trashed_owner,
        )
    )
    ok(await client.patch(trashed_path, json={"description": "held"}, headers=trashed_owner))
    ok(await client.delete(trashed_path, headers=trashed_owner))
    restore = {"email": "owner@trashed.example", "password": PASSWORD}
    ok(await client.post(f"{trashed_path}/restore", json=restore))
    # Deleted again, for the sweep in `operate` to purge.
    ok(await client.delete(trashed_path, headers=trashed_owner))


async def platform_calls(
    client: AsyncClient, store: Store, settings: Settings, account_id: object
) -> None:
    """Every call of the platform management API, searches in each of their shapes."""
    minted = await create_platform_key(store, settings, "ops", PlatformScope.WRITE, "ops")
    key = bearer(minted.secret)
    orgs = "/api/v1/admin/organizations"
    searches: list[dict[str, str]] = [
        {},
        {"name": "tech", "match": "exact"},
        {"name": "tech", "match": "prefix"},
        {"name": "tech", "match": "contains"},
        {"status": "active"},
        {"plan": "free"},
        {"domain": "techcorp.example"},
        {"domain": "techcorp.example", "name": "tech", "match": "prefix"},
        {"created_after": "2000-01-01T00:00:00Z", "created_before": "2100-01-01T00:00:00Z"},
        {"limit": "1"},
    ]
    for params in searches:
        first = ok(await client.get(orgs, params=params, headers=key))
        if first["next_cursor"]:
            onward = {**params, "cursor": first["next_cursor"]}
            ok(await client.get(orgs, params=onward, headers=key))
    account = ok(
        await client.get("/api/v1/admin/accounts/lookup", params={"email": EMAIL}, headers=key)
    )
    ok(await client.get(f"/api/v1/admin/accounts/{account['id']}", headers=key))
    ok(await client.get(f"/api/v1/admin/accounts/{account['id']}/organizations", headers=key))
    made = ok(
        await client.post(
            orgs,
            json={"organization_name": "Ops Corp", "owner_account_id": account["id"]},
            headers=key,
        )
    )
    fresh = ok(
        await client.post(
            orgs,
            json={
                "organization_name": "Fresh Ops Corp",
                "owner_email": "fresh@ops.example",
                "owner_password": PASSWORD,
            },
            headers=key,
        )
    )
    path = f"{orgs}/{made['id']}"
    ok(await client.get(path, headers=key))
    ok(
        await client.post(
            f"{path}/members", json={"account_id": str(account_id), "role": "member"}, headers=key
        )
    )
    ok(await client.put(f"{path}/plan", json={"plan": "pro"}, headers=key))
    ok(await client.post(f"{path}/suspend", headers=key))
    ok(await client.post(f"{path}/reactivate", headers=key))
    ok(await client.delete(path, headers=key))
    ok(await client.post(f"{path}/restore", headers=key))
    ok(await client.delete(path, headers=key))
    ok(await client.delete(path, params={"purge": "true"}, headers=key))
    ok(await client.delete(f"{orgs}/{fresh['id']}", params={"purge": "true"}, headers=key))


async def operate(store: Store, settings: Settings, tmp_path: Path) -> None:
    """What operators run, and what a restarted service does on a full store."""
    await prepare_database(store, settings)
    services = await start_services(settings, store, Metrics(), no_checkpoint)
    await services.recovery.run(timedelta(0))
    later = datetime.now(UTC) + timedelta(days=settings.deleted_retention_days + 1)
    registry = OrganizationRepository(store)
    lifecycle = Lifecycle.configured(store, settings)
    assert await PurgeSweep(
        lifecycle, registry, services.audit, services.outbox, clock=lambda: later
    ).run()
    await services.outbox.settle_stale(timedelta(0))
    await services.expiry_notices.sweep()
    await services.webhook_worker.round()
    await services.webhook_worker.show_queue()
    await services.webhook_worker.close()
    await services.capacity.refresh()
    await services.domains.check_due(timedelta(0))
    await list_organizations(store, settings, OrganizationFilter(state="active"))
    await describe_organization(store, settings, "Bystander Corp")
    await gather_statistics(store, settings, top=5)
    await verify(store)
    await repair(store, settings, force=False, announce=lambda _: None)
    await plan_rebalance(store, settings)
    target = settings.tenant_pool[-1] if len(settings.tenant_pool) > 1 else "tenantry_moved"
    await move_organization(store, settings, "Bystander Corp", target)
    exported = tmp_path / "bystander.jsonl"
    silent = _Silent()
    await export_tenant(
        store, settings, "Bystander Corp", exported, compress=False, progress=silent
    )
    await import_tenant(store, settings, "Bystander Corp", exported, replace=True, progress=silent)


class _Silent:
    def phase(self, label: str, total: int | None = None) -> None:
        return None

    def advance(self, count: int) -> None:
        return None


async def declared_indexes(store: Store, query: Query) -> list[Index]:
    """A master collection's indexes as start-up made them; a tenant collection's as declared
    (the collection may be gone by now)."""
    if query.database != store.master.name:
        return [
            Index(index.document["name"], tuple(index.document["key"].items()))
            for index in TENANT_INDEXES
        ]
    information = await store.master[query.collection].index_information()
    return [Index.described(name, info) for name, info in information.items()]


def as_planned(store: Store, query: Query) -> Query:
    """A tenant query's own fields are filtered among what the scope and sort find."""
    if query.database == store.master.name:
        return query
    own = frozenset(name for name in query.filter if not name.startswith("$")) - SERVER_FIELDS
    return dataclasses.replace(query, residual=own)


def allowed(store: Store, query: Query) -> str | None:
    collection = query.collection if query.database == store.master.name else "<tenant>"
    return DELIBERATE_SCANS.get((collection, query.origin, query.described))


async def test_every_query_is_served_by_a_declared_index(
    client: AsyncClient,
    store: Store,
    recorded: Store,
    recorder: Recorder,
    settings: Settings,
    outbox: Outbox,
    tmp_path: Path,
    dns: tuple[Zone, int],
) -> None:
    await scenario(client, store, outbox, settings, dns[0])
    await operate(recorded, settings, tmp_path)

    scans: set[str] = set()
    for recorded_query in recorder.queries:
        query = as_planned(store, recorded_query)
        served = served_by(await declared_indexes(store, query), query.shape)
        if served is None and allowed(store, query) is None:
            scans.add(str(query))
    assert len(recorder.queries) > 200, "the scenario stopped early"
    assert not scans, "queries no declared index serves:\n" + "\n".join(sorted(scans))
