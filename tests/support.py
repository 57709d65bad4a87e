"""Calls the tests make over and over, spelled the way a curl script would make them."""

from datetime import UTC, datetime
from typing import Any

import bcrypt
from bson import ObjectId
from httpx import AsyncClient, Response
from pymongo.asynchronous.database import AsyncDatabase

from app.access.roles import Role
from app.accounts.memberships import MembershipRepository
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.db.schema import ACCOUNTS, IDENTIFIER_CLAIMS, ORGANIZATIONS
from app.db.store import Document, Store
from app.workspaces.access import WorkspaceAccess
from app.workspaces.models import WorkspaceRole

NAME = "Tech Innovations Corp"
EMAIL = "admin@techcorp.com"
PASSWORD = "SecurePassword123"


async def create_org(
    client: AsyncClient, name: str = NAME, email: str = EMAIL, password: str = PASSWORD
) -> Response:
    return await client.post(
        "/org/create", json={"organization_name": name, "email": email, "password": password}
    )


async def created_org(
    client: AsyncClient, name: str = NAME, email: str = EMAIL, password: str = PASSWORD
) -> dict[str, Any]:
    response = await create_org(client, name, email, password)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(client: AsyncClient, email: str = EMAIL, password: str = PASSWORD) -> str:
    response = await client.post("/admin/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def rename(
    client: AsyncClient,
    token: str,
    new_name: str,
    email: str = EMAIL,
    password: str = PASSWORD,
) -> Response:
    return await client.put(
        "/org/update",
        json={"organization_name": new_name, "email": email, "password": password},
        headers=bearer(token),
    )


async def delete(client: AsyncClient, token: str, name: str = NAME) -> Response:
    return await client.request(
        "DELETE", "/org/delete", json={"organization_name": name}, headers=bearer(token)
    )


def field_errors(response: Response) -> list[str]:
    """The field named by each validation error of a 400 body."""
    assert response.status_code == 400, response.text
    return [str(item["loc"][-1]) for item in response.json()["detail"]]


async def add_account(
    store: Store, organization_id: str, email: str, role: str, password: str = PASSWORD
) -> ObjectId:
    """Give an organization a further member with a new account of its own, in its default
    workspace like an invited member (a custom role's holder as a viewer there)."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    account = Account(
        id=ObjectId(),
        email=email,
        password_hash=hashed,
        organization_id=ObjectId(organization_id),
        created_at=datetime.now(UTC),
    )
    await AccountRepository(store).insert(account)
    await MembershipRepository(store).add(account.id, ObjectId(organization_id), role)
    if role not in (Role.OWNER, Role.ADMIN):  # as accepting an invitation does
        workspaces = WorkspaceAccess(store)
        default = await workspaces.workspaces.ensure_default(ObjectId(organization_id))
        in_workspace = WorkspaceRole.EDITOR if role == Role.MEMBER else WorkspaceRole.VIEWER
        await workspaces.members.put(
            ObjectId(organization_id), default.id, account.id, in_workspace
        )
    return account.id


async def assert_consistent(store: Store) -> None:
    """Every claim, registry entry and tenant collection accounts for the others."""
    organizations = await store.master[ORGANIZATIONS].find({}).to_list()
    claims = sorted(await store.master[IDENTIFIER_CLAIMS].distinct("_id"))
    # A deleted organization is settled too: its collection waits in the trash.
    assert all(org["state"] in ("active", "deleted") for org in organizations)
    assert all(("trash" in org) == (org["state"] == "deleted") for org in organizations)
    assert all("pending_rename" not in org for org in organizations)
    assert all("pending_move" not in org for org in organizations)
    assert claims == sorted(org["identifier"] for org in organizations), f"claims {claims}"
    placed = sorted(
        f"{org.get('tenant_database') or store.default_tenant_db}."
        + (org["trash"]["collection"] if "trash" in org else org["tenant_collection"])
        for org in organizations
    )
    found = await tenant_namespaces(store)
    assert found == placed, f"tenant collections {found}, registry {placed}"
    homes = sorted(await store.master[ACCOUNTS].distinct("organization_id"))
    assert homes == sorted(org["_id"] for org in organizations), "an account without a home"


async def tenant_namespaces(store: Store) -> list[str]:
    """Every collection in every tenant database, as `database.collection`, sorted."""
    databases = {store.default_tenant_db, *store.tenant_pool}
    # A test's own in-memory client holds only its databases; on a shared server, the
    # test's databases share the master database's name as a prefix.
    databases.update(
        name
        for name in await store.client.list_database_names()
        if name != store.master.name
        and (not store.persistent or name.startswith(store.master.name))
    )
    found = []
    for database in databases:
        names = await store.tenant_database(database).list_collection_names()
        found += [f"{database}.{name}" for name in names]
    return sorted(found)


def tenants(store: Store) -> AsyncDatabase[Document]:
    """The default tenant database, where every organization goes with the default pool."""
    return store.tenant_database("")
