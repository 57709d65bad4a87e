"""A read racing a rename follows the collection: its cursor killed, the namespace gone or
an empty answer, it is read again from where the registry now points. And a workspace
delete, which deletes documents, waits for renames like any other document write."""

from typing import Any

import pytest
from bson import ObjectId
from httpx import AsyncClient
from pymongo.errors import OperationFailure

from app.db.schema import ORGANIZATIONS, WRITE_LEASES
from app.db.store import Store
from app.documents.repository import TenantDocuments
from tests.support import bearer, created_org, login, tenants

MOVED = "tenant_moved_corp"


async def a_document(client: AsyncClient) -> tuple[str, str, str, str]:
    created = await created_org(client)
    token = await login(client)
    base = f"/api/v1/organizations/{created['id']}/documents"
    stored = await client.post(base, json={"title": "kept"}, headers=bearer(token))
    assert stored.status_code == 201
    return created["tenant_collection"], token, base, stored.json()["id"]


async def rename_behind_the_read(store: Store, old: str) -> None:
    """What a rename finishing between the registry read and the document read leaves."""
    await tenants(store)[old].rename(MOVED)
    await store.master[ORGANIZATIONS].update_one({}, {"$set": {"tenant_collection": MOVED}})


@pytest.mark.parametrize("outcome", ["cursor killed", "namespace gone", "not found"])
async def test_a_document_read_during_a_rename_finds_it_where_it_went(
    client: AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch, outcome: str
) -> None:
    old, token, base, document_id = await a_document(client)
    original = TenantDocuments.get
    reads: list[int] = []

    async def racing(self: TenantDocuments, wanted: ObjectId) -> Any:
        reads.append(1)
        if len(reads) == 1:
            await rename_behind_the_read(store, old)
            if outcome == "cursor killed":
                raise OperationFailure("query plan killed", 175)
            if outcome == "namespace gone":
                raise OperationFailure("ns not found", 26)
        return await original(self, wanted)

    monkeypatch.setattr(TenantDocuments, "get", racing)
    response = await client.get(f"{base}/{document_id}", headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["title"] == "kept"
    assert len(reads) == 2


async def test_a_missing_document_is_still_a_404_after_one_read(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token, base, _ = await a_document(client)
    original = TenantDocuments.get
    reads: list[int] = []

    async def counted(self: TenantDocuments, wanted: ObjectId) -> Any:
        reads.append(1)
        return await original(self, wanted)

    monkeypatch.setattr(TenantDocuments, "get", counted)
    response = await client.get(f"{base}/{ObjectId()}", headers=bearer(token))

    assert response.status_code == 404
    assert len(reads) == 1


async def test_a_list_during_a_rename_is_not_an_empty_page(
    client: AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, token, base, _ = await a_document(client)
    original = TenantDocuments.page
    pages: list[int] = []

    async def racing(self: TenantDocuments, *args: Any) -> Any:
        pages.append(1)
        if len(pages) == 1:
            await rename_behind_the_read(store, old)
        return await original(self, *args)

    monkeypatch.setattr(TenantDocuments, "page", racing)
    listed = await client.get(base, headers=bearer(token))

    assert listed.status_code == 200
    assert listed.json()["total"] == 1
    assert len(pages) == 2


async def test_a_workspace_delete_during_a_rename_is_told_to_retry(
    client: AsyncClient, store: Store
) -> None:
    created = await created_org(client)
    token = await login(client)
    base = f"/api/v1/organizations/{created['id']}"
    workspace = await client.post(
        f"{base}/workspaces", json={"name": "Sales"}, headers=bearer(token)
    )
    workspace_id = workspace.json()["id"]
    switched = await client.post(
        "/api/v1/auth/switch",
        json={"organization_id": created["id"], "workspace_id": workspace_id},
        headers=bearer(token),
    )
    in_sales = switched.json()["access_token"]
    stored = await client.post(f"{base}/documents", json={"n": 1}, headers=bearer(in_sales))
    assert stored.status_code == 201
    await store.master[ORGANIZATIONS].update_one(
        {"_id": ObjectId(created["id"])}, {"$set": {"state": "renaming"}}
    )

    refused = await client.delete(
        f"{base}/workspaces/{workspace_id}?confirm=true", headers=bearer(token)
    )

    assert refused.status_code == 503
    assert refused.json()["code"] == "workspace_data_moving"
    assert refused.headers["retry-after"]
    assert await tenants(store)[created["tenant_collection"]].count_documents({}) == 1
    assert await store.master[WRITE_LEASES].count_documents({}) == 0
    await store.master[ORGANIZATIONS].update_one(
        {"_id": ObjectId(created["id"])}, {"$set": {"state": "active"}}
    )
    deleted = await client.delete(
        f"{base}/workspaces/{workspace_id}?confirm=true", headers=bearer(token)
    )
    assert deleted.status_code == 200
    assert await tenants(store)[created["tenant_collection"]].count_documents({}) == 0
