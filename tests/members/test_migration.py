"""Data written before memberships existed keeps working after an upgrade."""

from datetime import UTC, datetime

import bcrypt
from bson import ObjectId
from httpx import AsyncClient

from app.db.schema import ACCOUNTS, MEMBERSHIPS, ORGANIZATIONS
from app.db.store import Store
from app.members.migration import migrate_to_memberships
from tests.support import EMAIL, PASSWORD, bearer, login, tenants


async def seed_legacy_organization(store: Store) -> tuple[ObjectId, ObjectId]:
    now = datetime.now(UTC)
    organization_id, account_id = ObjectId(), ObjectId()
    await store.master[ORGANIZATIONS].insert_one(
        {
            "_id": organization_id,
            "name": "Legacy Corp",
            "name_key": "legacy corp",
            "identifier": "legacy-corp",
            "tenant_collection": "tenant_legacy_corp",
            "admin_id": account_id,
            "state": "active",
            "created_at": now,
            "modified_at": now,
        }
    )
    await store.master[ACCOUNTS].insert_one(
        {
            "_id": account_id,
            "email": EMAIL,
            "email_key": EMAIL,
            "password_hash": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode(),
            "organization_id": organization_id,
            "role": "owner",
            "created_at": now,
        }
    )
    await tenants(store).create_collection("tenant_legacy_corp")
    return organization_id, account_id


async def test_migration_gives_legacy_accounts_memberships_once(store: Store) -> None:
    organization_id, account_id = await seed_legacy_organization(store)

    assert await migrate_to_memberships(store) == 1
    assert await migrate_to_memberships(store) == 0

    memberships = await store.master[MEMBERSHIPS].find({}).to_list()
    assert [(m["account_id"], m["organization_id"], m["role"]) for m in memberships] == [
        (account_id, organization_id, "owner")
    ]
    account = await store.master[ACCOUNTS].find_one({"_id": account_id})
    assert account is not None
    assert "role" not in account
    organization = await store.master[ORGANIZATIONS].find_one({"_id": organization_id})
    assert organization is not None
    assert organization["owner_count"] == 1


async def test_legacy_owners_log_in_and_rename_after_start_up(
    store: Store, client: AsyncClient
) -> None:
    # The client fixture's app started before the seed; a second start migrates it.
    await seed_legacy_organization(store)
    await migrate_to_memberships(store)

    token = await login(client)
    me = await client.get("/admin/me", headers=bearer(token))

    assert me.json()["role"] == "owner"
    renamed = await client.put(
        "/org/update",
        json={"organization_name": "Legacy Corp 2", "email": EMAIL, "password": PASSWORD},
        headers=bearer(token),
    )
    assert renamed.status_code == 200
