"""Every query on organization domains and on join requests."""

from datetime import datetime

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.access.roles import Role
from app.db.keyset import Keyset, Kind, Slice, Window
from app.db.schema import JOIN_REQUESTS, ORGANIZATION_DOMAINS
from app.db.store import Store
from app.domains.models import (
    Domain,
    DomainStatus,
    JoinPolicy,
    JoinRequest,
    JoinRequestStatus,
    join_request_key,
)

DOMAINS_OLDEST_FIRST = Keyset("domains", "created_at", Kind.DATETIME)
REQUESTS_OLDEST_FIRST = Keyset("join_requests", "created_at", Kind.DATETIME)


class DomainTaken(Exception):
    """The organization has the domain already (pending or not)."""


class DomainVerifiedElsewhere(Exception):
    """Another organization holds the domain verified."""


class RequestAlreadyPending(Exception):
    pass


class DomainRepository:
    def __init__(self, store: Store) -> None:
        self._domains = store.master[ORGANIZATION_DOMAINS]

    async def insert(self, domain: Domain) -> None:
        try:
            await self._domains.insert_one(domain.to_document())
        except DuplicateKeyError:
            raise DomainTaken() from None

    async def get(self, organization_id: ObjectId, domain_id: ObjectId) -> Domain | None:
        found = await self._domains.find_one({"_id": domain_id, "organization_id": organization_id})
        return Domain.from_document(found) if found else None

    async def page(self, organization_id: ObjectId, window: Window) -> Slice[Domain]:
        reading = DOMAINS_OLDEST_FIRST.read(window, organization=organization_id)
        page = await reading.page(self._domains, {"organization_id": organization_id})
        return page.with_items([Domain.from_document(document) for document in page.items])

    async def mark_verified(self, domain: Domain, at: datetime) -> bool:
        """Verified from now on, unless it was removed meanwhile; DomainVerifiedElsewhere when
        another organization holds it verified (the unique partial index decides)."""
        try:
            result = await self._domains.update_one(
                {"_id": domain.id, "organization_id": domain.organization_id},
                {
                    "$set": {
                        "status": DomainStatus.VERIFIED.value,
                        "verified_domain": domain.domain,
                        "verified_at": at,
                        "last_checked_at": at,
                        "last_check_error": None,
                        "lapsed_at": None,
                    }
                },
            )
        except DuplicateKeyError:
            raise DomainVerifiedElsewhere() from None
        return result.matched_count == 1

    async def note_check(self, domain: Domain, at: datetime, error: str | None) -> None:
        await self._domains.update_one(
            {"_id": domain.id}, {"$set": {"last_checked_at": at, "last_check_error": error}}
        )

    async def lapse(self, domain: Domain, at: datetime, error: str) -> bool:
        """A verified domain whose record is gone: no longer verified. Whether this did it."""
        result = await self._domains.update_one(
            {"_id": domain.id, "status": DomainStatus.VERIFIED.value},
            {
                "$set": {
                    "status": DomainStatus.LAPSED.value,
                    "lapsed_at": at,
                    "last_checked_at": at,
                    "last_check_error": error,
                },
                "$unset": {"verified_domain": ""},
            },
        )
        return result.modified_count == 1

    async def set_policy(self, domain: Domain, policy: JoinPolicy, role: Role) -> bool:
        result = await self._domains.update_one(
            {"_id": domain.id, "organization_id": domain.organization_id},
            {"$set": {"join_policy": policy.value, "default_role": role.value}},
        )
        return result.matched_count == 1

    async def delete(self, domain: Domain) -> bool:
        result = await self._domains.delete_one(
            {"_id": domain.id, "organization_id": domain.organization_id}
        )
        return result.deleted_count == 1

    async def delete_for_organization(self, organization_id: ObjectId) -> None:
        await self._domains.delete_many({"organization_id": organization_id})

    async def verified(self, domain: str) -> Domain | None:
        """The one organization's entry that holds `domain` verified, if any."""
        found = await self._domains.find_one({"verified_domain": domain})
        return Domain.from_document(found) if found else None

    async def due_for_check(self, checked_before: datetime, limit: int) -> list[Domain]:
        """Verified domains last checked before `checked_before`, longest unchecked first."""
        cursor = (
            self._domains.find(
                {
                    "status": DomainStatus.VERIFIED.value,
                    "last_checked_at": {"$lt": checked_before},
                }
            )
            .sort("last_checked_at", 1)
            .limit(limit)
        )
        return [Domain.from_document(document) async for document in cursor]

    async def read_by_id(self, domain_id: ObjectId) -> Domain | None:
        found = await self._domains.find_one({"_id": domain_id})
        return Domain.from_document(found) if found else None


class JoinRequestRepository:
    def __init__(self, store: Store) -> None:
        self._requests = store.master[JOIN_REQUESTS]

    async def insert(self, request: JoinRequest) -> None:
        try:
            await self._requests.insert_one(request.to_document())
        except DuplicateKeyError:
            raise RequestAlreadyPending() from None

    async def get(self, organization_id: ObjectId, request_id: ObjectId) -> JoinRequest | None:
        found = await self._requests.find_one(
            {"_id": request_id, "organization_id": organization_id}
        )
        return JoinRequest.from_document(found) if found else None

    async def read_by_id(self, request_id: ObjectId) -> JoinRequest | None:
        found = await self._requests.find_one({"_id": request_id})
        return JoinRequest.from_document(found) if found else None

    async def page_pending(self, organization_id: ObjectId, window: Window) -> Slice[JoinRequest]:
        query = {"organization_id": organization_id, "status": JoinRequestStatus.PENDING.value}
        reading = REQUESTS_OLDEST_FIRST.read(window, organization=organization_id)
        page = await reading.page(self._requests, query)
        return page.with_items([JoinRequest.from_document(document) for document in page.items])

    async def decide(
        self,
        request: JoinRequest,
        status: JoinRequestStatus,
        by: ObjectId,
        at: datetime,
        role: Role | None,
    ) -> bool:
        """Close a pending request; False if it was decided meanwhile."""
        result = await self._requests.update_one(
            {"_id": request.id, "status": JoinRequestStatus.PENDING.value},
            {
                "$set": {
                    "status": status.value,
                    "decided_by": by,
                    "decided_at": at,
                    "role": role.value if role else None,
                },
                "$unset": {"pending_key": ""},
            },
        )
        return result.modified_count == 1

    async def reopen(self, request: JoinRequest) -> None:
        """Undo `decide` for an approval whose membership could not be made."""
        await self._requests.update_one(
            {"_id": request.id},
            {
                "$set": {
                    "status": JoinRequestStatus.PENDING.value,
                    "decided_by": None,
                    "decided_at": None,
                    "role": None,
                    "pending_key": join_request_key(request.organization_id, request.account_id),
                }
            },
        )

    async def delete_for_organization(self, organization_id: ObjectId) -> None:
        await self._requests.delete_many({"organization_id": organization_id})
