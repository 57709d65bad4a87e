"""Every query on organization API keys."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from bson import ObjectId

from app.access.roles import RoleName
from app.apikeys.models import ApiKey
from app.db.keyset import Keyset, Kind, Slice, Window
from app.db.schema import API_KEYS, ORGANIZATIONS, ROLES, WORKSPACES
from app.db.store import Document, Store, joined

KEYS_NEWEST_FIRST = Keyset("api_keys", "created_at", Kind.DATETIME, descending=True)


@dataclass(frozen=True, slots=True)
class KeyStanding:
    """A key with what checking it reads, as stored: its organization's entry, and the
    workspace its documents go to (its own, else the organization's default)."""

    key: ApiKey
    organization: Document | None
    workspace: Document | None
    # The custom role the key names, if it names one that exists.
    custom_role: Document | None = None


class ApiKeyRepository:
    def __init__(self, store: Store) -> None:
        self._keys = store.master[API_KEYS]

    async def insert(self, key: ApiKey) -> None:
        await self._keys.insert_one(key.to_document())

    async def get(self, organization_id: ObjectId, key_id: ObjectId) -> ApiKey | None:
        found = await self._keys.find_one({"_id": key_id, "organization_id": organization_id})
        return ApiKey.from_document(found) if found else None

    async def page(self, organization_id: ObjectId, window: Window) -> Slice[ApiKey]:
        reading = KEYS_NEWEST_FIRST.read(window, organization=organization_id)
        page = await reading.page(self._keys, {"organization_id": organization_id})
        return page.with_items([ApiKey.from_document(document) for document in page.items])

    async def revoke(self, organization_id: ObjectId, key_id: ObjectId, at: datetime) -> bool:
        """Revoke a live key; False if there is none (unknown, or revoked already)."""
        result = await self._keys.update_one(
            {"_id": key_id, "organization_id": organization_id, "revoked_at": None},
            {"$set": {"revoked_at": at}},
        )
        return result.modified_count == 1

    async def delete_for_organization(self, organization_id: ObjectId) -> None:
        await self._keys.delete_many({"organization_id": organization_id})

    async def count_with_role(self, organization_id: ObjectId, role: RoleName) -> int:
        """The keys not revoked that hold `role`."""
        return await self._keys.count_documents(
            {"organization_id": organization_id, "role": role, "revoked_at": None}
        )

    async def replace_role(
        self, organization_id: ObjectId, role: RoleName, replacement: RoleName
    ) -> int:
        """Give every key holding `role` the role `replacement` instead (revoked ones too,
        so none names a role that is gone). How many moved."""
        result = await self._keys.update_many(
            {"organization_id": organization_id, "role": role}, {"$set": {"role": replacement}}
        )
        return result.modified_count

    async def standing(self, key_id: ObjectId) -> KeyStanding | None:
        """The key and what its check needs, in one aggregation joined on `_id`; a custom
        role's definition (`<organization>:<slug>`) comes with it, as it is now."""
        cursor = await self._keys.aggregate(
            [
                {"$match": {"_id": key_id}},
                {
                    "$addFields": {
                        "_role_key": {"$concat": [{"$toString": "$organization_id"}, ":", "$role"]}
                    }
                },
                joined(ROLES, "_role_key", "_id", "_role"),
                joined(ORGANIZATIONS, "organization_id", "_id", "_organization"),
                joined(WORKSPACES, "workspace_id", "_id", "_workspace"),
                # A default workspace bears its organization's id.
                joined(WORKSPACES, "organization_id", "_id", "_default"),
            ]
        )
        found = await cursor.to_list(1)
        if not found:
            return None
        [document] = found
        key = ApiKey.from_document(document)

        def first(name: str, known: ObjectId | None) -> Document | None:
            rows = document.get(name) or []
            return {**rows[0], "_id": known} if rows and known is not None else None

        workspace = (
            first("_workspace", key.workspace_id)
            if key.workspace_id
            else first("_default", key.organization_id)
        )
        role_rows = document.get("_role") or []
        custom_role = {**role_rows[0], "_id": document.get("_role_key")} if role_rows else None
        return KeyStanding(key, first("_organization", key.organization_id), workspace, custom_role)

    async def mark_used(self, key_id: ObjectId, at: datetime, interval: timedelta) -> None:
        """Record that the key was used, unless that was recorded within `interval`."""
        await self._keys.update_one(
            {
                "_id": key_id,
                "$or": [{"last_used_at": None}, {"last_used_at": {"$lte": at - interval}}],
            },
            {"$set": {"last_used_at": at}},
        )
