"""Accounts from before email verification existed are unverified, and say so."""

from app.accounts.repository import AccountRepository
from app.db.store import Store


async def migrate_to_email_verification(store: Store) -> int:
    """Write `email_verified_at: null` on accounts without the field; how many changed."""
    return await AccountRepository(store).mark_unverified_where_unknown()
