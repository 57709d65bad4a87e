"""Every query on workspaces and workspace memberships."""

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.db.keyset import Keyset, Kind, Slice, Window
from app.db.naming import name_key
from app.db.schema import WORKSPACE_MEMBERS, WORKSPACES
from app.db.store import Store
from app.errors import ServiceUnavailable
from app.workspaces.models import (
    DEFAULT_WORKSPACE_NAME,
    Workspace,
    WorkspaceMember,
    WorkspaceRole,
    workspace_member_id,
)

WORKSPACES_OLDEST_FIRST = Keyset("workspaces", "created_at", Kind.DATETIME)
# A workspace member's `_id` is a string (see `workspace_member_id`).
WORKSPACE_MEMBERS_OLDEST_FIRST = Keyset(
    "workspace_members", "created_at", Kind.DATETIME, id_kind=Kind.STRING
)


# How many names `ensure_default` tries (`Default`, `Default 2`, ...) before giving up: only
# workspaces already holding those names, each made by hand, can use them up.
DEFAULT_NAME_ATTEMPTS = 20


class WorkspaceNameTaken(Exception):
    pass


class DefaultWorkspaceUnsettled(ServiceUnavailable):
    """No default workspace could be found or made (see `DEFAULT_NAME_ATTEMPTS`): the
    database keeps refusing the one it does not return."""

    code = "default_workspace_unsettled"
    detail = "The organization's default workspace could not be settled; try again shortly"


def _default_names() -> Iterator[str]:
    yield DEFAULT_WORKSPACE_NAME
    for n in count(2):
        yield f"{DEFAULT_WORKSPACE_NAME} {n}"


class WorkspaceRepository:
    def __init__(self, store: Store) -> None:
        self._workspaces = store.master[WORKSPACES]

    async def create(
        self, organization_id: ObjectId, name: str, *, is_default: bool = False
    ) -> Workspace:
        document = {
            # A default workspace bears its organization's id: found by primary key, and
            # never made twice.
            "_id": organization_id if is_default else ObjectId(),
            "organization_id": organization_id,
            "name": name,
            "name_key": name_key(name),
            "is_default": is_default,
            "archived": False,
            "created_at": datetime.now(UTC),
        }
        if is_default:
            # Unique: a second default of the organization is refused like a taken name.
            document["default_for"] = organization_id
        try:
            await self._workspaces.insert_one(document)
        except DuplicateKeyError:
            raise WorkspaceNameTaken() from None
        return Workspace.from_document(document)

    async def first_default(self, organization_id: ObjectId) -> Workspace:
        """The default workspace of an organization just registered, which has none yet: made
        without looking first, unless something is in the way."""
        try:
            return await self.create(organization_id, DEFAULT_WORKSPACE_NAME, is_default=True)
        except WorkspaceNameTaken:
            return await self.ensure_default(organization_id)

    async def ensure_default(self, organization_id: ObjectId) -> Workspace:
        """The organization's default workspace, created if missing: safe to repeat and to
        race, and named `Default 2` (and so on) when a workspace already has the name."""
        names = _default_names()
        for _ in range(DEFAULT_NAME_ATTEMPTS):
            existing = await self.default_of(organization_id)
            if existing is not None:
                return existing
            try:
                return await self.create(organization_id, next(names), is_default=True)
            except WorkspaceNameTaken:
                # Either a concurrent caller made the default (read on the next round) or
                # another workspace has this name (the next round tries the next one).
                continue
        raise DefaultWorkspaceUnsettled()

    async def get(self, organization_id: ObjectId, workspace_id: ObjectId) -> Workspace | None:
        document = await self._workspaces.find_one(
            {"_id": workspace_id, "organization_id": organization_id}
        )
        return Workspace.from_document(document) if document else None

    async def find_by_name(self, organization_id: ObjectId, name: str) -> Workspace | None:
        document = await self._workspaces.find_one(
            {"organization_id": organization_id, "name_key": name_key(name)}
        )
        return Workspace.from_document(document) if document else None

    async def default_of(self, organization_id: ObjectId) -> Workspace | None:
        document = await self._workspaces.find_one({"_id": organization_id})
        if document is None:
            # Defaults made before they took their organization's id.
            document = await self._workspaces.find_one(
                {"organization_id": organization_id, "is_default": True}
            )
        return Workspace.from_document(document) if document else None

    async def page(
        self, organization_id: ObjectId, only: list[ObjectId] | None, window: Window
    ) -> Slice[Workspace]:
        """The organization's workspaces (or those of `only`), oldest first."""
        query: dict[str, object] = {"organization_id": organization_id}
        if only is not None:
            query["_id"] = {"$in": only}
        # `only` is the caller's view of the list, not part of what the list is: a cursor stays
        # good when the caller joins or leaves a workspace during the walk.
        reading = WORKSPACES_OLDEST_FIRST.read(window, organization=organization_id)
        page = await reading.page(self._workspaces, query)
        return page.with_items([Workspace.from_document(d) for d in page.items])

    async def rename(self, workspace: Workspace, name: str) -> None:
        try:
            await self._workspaces.update_one(
                {"_id": workspace.id}, {"$set": {"name": name, "name_key": name_key(name)}}
            )
        except DuplicateKeyError:
            raise WorkspaceNameTaken() from None

    async def set_archived(self, workspace: Workspace, archived: bool) -> None:
        await self._workspaces.update_one({"_id": workspace.id}, {"$set": {"archived": archived}})

    async def delete(self, workspace: Workspace) -> None:
        await self._workspaces.delete_one({"_id": workspace.id, "is_default": False})

    async def delete_for_organization(self, organization_id: ObjectId) -> None:
        await self._workspaces.delete_many({"organization_id": organization_id})

    async def organizations_without_default(
        self, organization_ids: list[ObjectId]
    ) -> list[ObjectId]:
        # A find, not `distinct`: each organization has at most one default workspace.
        cursor = self._workspaces.find(
            {"organization_id": {"$in": organization_ids}, "is_default": True},
            {"organization_id": 1},
        )
        having = {document["organization_id"] async for document in cursor}
        return [org for org in organization_ids if org not in having]


class WorkspaceMemberRepository:
    def __init__(self, store: Store) -> None:
        self._members = store.master[WORKSPACE_MEMBERS]

    async def get(self, workspace_id: ObjectId, account_id: ObjectId) -> WorkspaceMember | None:
        document = await self._members.find_one(
            {"_id": workspace_member_id(workspace_id, account_id)}
        )
        return WorkspaceMember.from_document(document) if document else None

    async def put(
        self,
        organization_id: ObjectId,
        workspace_id: ObjectId,
        account_id: ObjectId,
        role: WorkspaceRole,
    ) -> None:
        await self._members.update_one(
            {"_id": workspace_member_id(workspace_id, account_id)},
            {
                "$set": {"role": role.value},
                "$setOnInsert": {
                    "workspace_id": workspace_id,
                    "organization_id": organization_id,
                    "account_id": account_id,
                    "created_at": datetime.now(UTC),
                },
            },
            upsert=True,
        )

    async def remove(self, workspace_id: ObjectId, account_id: ObjectId) -> bool:
        result = await self._members.delete_one(
            {"_id": workspace_member_id(workspace_id, account_id)}
        )
        return result.deleted_count == 1

    async def page(self, workspace_id: ObjectId, window: Window) -> Slice[WorkspaceMember]:
        query = {"workspace_id": workspace_id}
        reading = WORKSPACE_MEMBERS_OLDEST_FIRST.read(window, workspace=workspace_id)
        page = await reading.page(self._members, query)
        return page.with_items([WorkspaceMember.from_document(d) for d in page.items])

    async def count(self, workspace_id: ObjectId) -> int:
        return await self._members.count_documents({"workspace_id": workspace_id})

    async def of_account(
        self, organization_id: ObjectId, account_id: ObjectId
    ) -> list[WorkspaceMember]:
        cursor = self._members.find({"organization_id": organization_id, "account_id": account_id})
        return [WorkspaceMember.from_document(d) async for d in cursor]

    async def remove_account(self, organization_id: ObjectId, account_id: ObjectId) -> None:
        await self._members.delete_many(
            {"organization_id": organization_id, "account_id": account_id}
        )

    async def delete_for_workspace(self, workspace_id: ObjectId) -> None:
        await self._members.delete_many({"workspace_id": workspace_id})

    async def delete_for_organization(self, organization_id: ObjectId) -> None:
        await self._members.delete_many({"organization_id": organization_id})
