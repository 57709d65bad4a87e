"""Logged-out tokens, refused until they expire; a TTL index forgets them afterwards. A
token's check reads them with its membership (`MembershipRepository.standing`)."""

from datetime import datetime

from app.db.schema import REVOKED_TOKENS
from app.db.store import Store


class RevokedTokens:
    def __init__(self, store: Store) -> None:
        self._revoked = store.master[REVOKED_TOKENS]

    async def revoke(self, token_id: str, expires_at: datetime) -> None:
        await self._revoked.update_one(
            {"_id": token_id}, {"$set": {"expires_at": expires_at}}, upsert=True
        )
