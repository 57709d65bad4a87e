"""Every query on email verification links (`email_verifications`): one live link per
account, `_id` = the account's id; only a hash of the link's token is kept, and a TTL index
forgets the record at its expiry."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from app.db.schema import EMAIL_VERIFICATIONS
from app.db.store import Store


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class VerificationLink:
    account_id: ObjectId
    email: str
    expires_at: datetime


class EmailVerificationRepository:
    def __init__(self, store: Store) -> None:
        self._links = store.master[EMAIL_VERIFICATIONS]

    async def issue(
        self, account_id: ObjectId, email: str, token: str, now: datetime, expires_at: datetime
    ) -> None:
        """The account's one live link from now on: a link sent before stops working."""
        await self._links.replace_one(
            {"_id": account_id},
            {
                "email": email,
                "token_digest": token_digest(token),
                "created_at": now,
                "expires_at": expires_at,
            },
            upsert=True,
        )

    async def take(self, token: str, now: datetime) -> VerificationLink | None:
        """The link `token` belongs to, removed as it is read (so it works once), if it has
        not expired; None otherwise."""
        found = await self._links.find_one_and_delete(
            {"token_digest": token_digest(token), "expires_at": {"$gt": now}}
        )
        if found is None:
            return None
        return VerificationLink(found["_id"], found["email"], found["expires_at"])

    async def forget(self, account_id: ObjectId) -> None:
        await self._links.delete_one({"_id": account_id})
