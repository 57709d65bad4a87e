"""Every query on invitations."""

from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.access.roles import RoleName
from app.accounts.models import email_key
from app.db.keyset import Keyset, Kind, Slice, Window
from app.db.schema import INVITATIONS
from app.db.store import Store
from app.invitations.models import Invitation, InvitationStatus, pending_key, token_digest

# Answered invitations are kept this long after they expire (for listing), then purged.
RETENTION = timedelta(days=30)
PENDING_OLDEST_FIRST = Keyset("pending_invitations", "created_at", Kind.DATETIME)
# Links replaced by a resend that still answer "replaced" rather than "not found"; resends are
# rare and made by admins, so this only bounds a document someone resends in a loop.
REPLACED_TOKENS_KEPT = 20
# A resend racing another resend of the same invitation reads it again this many times.
RENEW_ATTEMPTS = 5


def _live_pending(organization_id: ObjectId) -> dict[str, object]:
    """The filter for invitations still open: pending and not yet expired."""
    return {
        "organization_id": organization_id,
        "status": InvitationStatus.PENDING.value,
        "expires_at": {"$gt": datetime.now(UTC)},
    }


class AlreadyInvited(Exception):
    pass


class RenewContended(Exception):
    """Other resends of the invitation kept winning."""


class InvitationRepository:
    def __init__(self, store: Store) -> None:
        self._invitations = store.master[INVITATIONS]

    async def create(
        self,
        organization_id: ObjectId,
        email: str,
        role: RoleName,
        invited_by: ObjectId,
        token: str,
        expires_at: datetime,
    ) -> Invitation:
        key = email_key(email)
        await self._expire_stale(organization_id, key)
        document = {
            "_id": ObjectId(),
            "organization_id": organization_id,
            "email": email,
            "email_key": key,
            "role": role,
            "status": InvitationStatus.PENDING.value,
            "pending_key": pending_key(organization_id, key),
            "token_digest": token_digest(token),
            "invited_by": invited_by,
            "created_at": datetime.now(UTC),
            "expires_at": expires_at,
            "purge_at": expires_at + RETENTION,
        }
        try:
            await self._invitations.insert_one(document)
        except DuplicateKeyError:
            raise AlreadyInvited() from None
        return Invitation.from_document(document)

    async def get(self, organization_id: ObjectId, invitation_id: ObjectId) -> Invitation | None:
        document = await self._invitations.find_one(
            {"_id": invitation_id, "organization_id": organization_id}
        )
        return Invitation.from_document(document) if document else None

    async def find_by_token(self, token: str) -> Invitation | None:
        """The invitation whose current or replaced link carries `token`, whatever its status:
        an answered or resent invitation keeps its tokens' digests, so its links can be told
        apart from a link that never existed (`Invitation.token_digest` is the current one)."""
        digest = token_digest(token)
        document = await self._invitations.find_one(
            {"$or": [{"token_digest": digest}, {"replaced_token_digests": digest}]}
        )
        return Invitation.from_document(document) if document else None

    async def expired_unnoticed(self, now: datetime, limit: int) -> list[Invitation]:
        """Pending invitations past their expiry whose expiry has not been announced."""
        cursor = self._invitations.find(
            {
                "status": InvitationStatus.PENDING.value,
                "expires_at": {"$lte": now},
                "expiry_noticed": {"$exists": False},
            }
        ).limit(limit)
        return [Invitation.from_document(document) async for document in cursor]

    async def notice_expiry(self, invitation: Invitation) -> bool:
        """Mark the invitation's expiry announced, once; whether this call did."""
        result = await self._invitations.update_one(
            {
                "_id": invitation.id,
                "status": InvitationStatus.PENDING.value,
                "expires_at": invitation.expires_at,
                "expiry_noticed": {"$exists": False},
            },
            {"$set": {"expiry_noticed": True}},
        )
        return result.modified_count == 1

    async def expiry_noticed(self, organization_id: ObjectId, invitation_id: ObjectId) -> bool:
        document = await self._invitations.find_one(
            {"_id": invitation_id, "organization_id": organization_id}, {"expiry_noticed": 1}
        )
        return bool((document or {}).get("expiry_noticed"))

    async def find_by_digest(self, digest: str) -> Invitation | None:
        """The invitation whose current link has this digest."""
        document = await self._invitations.find_one({"token_digest": digest})
        return Invitation.from_document(document) if document else None

    async def page_pending(self, organization_id: ObjectId, window: Window) -> Slice[Invitation]:
        query = _live_pending(organization_id)
        reading = PENDING_OLDEST_FIRST.read(window, organization=organization_id)
        page = await reading.page(self._invitations, query)
        return page.with_items([Invitation.from_document(document) for document in page.items])

    async def count_pending(self, organization_id: ObjectId) -> int:
        return await self._invitations.count_documents(_live_pending(organization_id))

    async def renew(
        self, invitation: Invitation, token: str, expires_at: datetime
    ) -> Invitation | None:
        """A new token and expiry for a pending invitation; the old token is kept among the
        replaced ones. None when the invitation is no longer pending."""
        current: Invitation | None = invitation
        for _ in range(RENEW_ATTEMPTS):
            if current is None or current.status is not InvitationStatus.PENDING:
                return None
            # Compare and set on the digest: a concurrent resend must not lose its replaced
            # token, which the other one would overwrite unrecorded.
            document = await self._invitations.find_one_and_update(
                {
                    "_id": current.id,
                    "status": InvitationStatus.PENDING.value,
                    "token_digest": current.token_digest,
                },
                {
                    "$set": {
                        "token_digest": token_digest(token),
                        "expires_at": expires_at,
                        "purge_at": expires_at + RETENTION,
                    },
                    # A renewed invitation's expiry is a new one, to be noticed in its turn.
                    "$unset": {"expiry_noticed": ""},
                    "$push": {
                        "replaced_token_digests": {
                            "$each": [current.token_digest],
                            "$slice": -REPLACED_TOKENS_KEPT,
                        }
                    },
                },
                return_document=ReturnDocument.AFTER,
            )
            if document is not None:
                return Invitation.from_document(document)
            current = await self.get(invitation.organization_id, invitation.id)
        raise RenewContended()

    async def close(self, invitation: Invitation, status: InvitationStatus) -> bool:
        """Move a pending invitation to a final status, once: only one caller can win."""
        result = await self._invitations.update_one(
            {"_id": invitation.id, "status": InvitationStatus.PENDING.value},
            {
                "$set": {"status": status.value, "closed_at": datetime.now(UTC)},
                "$unset": {"pending_key": ""},
            },
        )
        return result.modified_count == 1

    async def reopen(self, invitation: Invitation) -> None:
        """Undo an acceptance that could not complete, so the token can be used again."""
        await self._invitations.update_one(
            {"_id": invitation.id, "status": InvitationStatus.ACCEPTED.value},
            {
                "$set": {
                    "status": InvitationStatus.PENDING.value,
                    "pending_key": pending_key(
                        invitation.organization_id, email_key(invitation.email)
                    ),
                },
                "$unset": {"closed_at": ""},
            },
        )

    async def count_with_role(self, organization_id: ObjectId, role: RoleName) -> int:
        """The pending invitations offering `role`."""
        return await self._invitations.count_documents(
            {
                "organization_id": organization_id,
                "role": role,
                "status": InvitationStatus.PENDING.value,
            }
        )

    async def replace_role(
        self, organization_id: ObjectId, role: RoleName, replacement: RoleName
    ) -> int:
        """Offer `replacement` instead of `role` in every pending invitation. How many moved."""
        result = await self._invitations.update_many(
            {
                "organization_id": organization_id,
                "role": role,
                "status": InvitationStatus.PENDING.value,
            },
            {"$set": {"role": replacement}},
        )
        return result.modified_count

    async def delete_for_organization(self, organization_id: ObjectId) -> None:
        await self._invitations.delete_many({"organization_id": organization_id})

    async def _expire_stale(self, organization_id: ObjectId, key: str) -> None:
        """Free the pending slot of an invitation whose time ran out."""
        await self._invitations.update_one(
            {
                "pending_key": pending_key(organization_id, key),
                "expires_at": {"$lte": datetime.now(UTC)},
            },
            {
                "$set": {"status": InvitationStatus.EXPIRED.value},
                "$unset": {"pending_key": ""},
            },
        )
