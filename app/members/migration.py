"""Bring data from before memberships existed up to date; safe to run at every start."""

import logging

from app.access.roles import Role
from app.accounts.memberships import MembershipRepository
from app.accounts.repository import AccountRepository
from app.db.store import Store
from app.registry.repository import OrganizationRepository

logger = logging.getLogger(__name__)


async def migrate_to_memberships(store: Store) -> int:
    """Give every account that still carries a role a membership, and every organization an
    owner count. Returns how many accounts were migrated."""
    accounts = AccountRepository(store)
    memberships = MembershipRepository(store)
    organizations = OrganizationRepository(store)
    migrated = 0
    for account_id, organization_id, role in await accounts.legacy_roles():
        await memberships.ensure(account_id, organization_id, Role(role))
        await accounts.forget_legacy_role(account_id)
        migrated += 1
    for organization_id in await organizations.without_owner_count():
        owners = await memberships.count_for_organization(organization_id, Role.OWNER)
        await organizations.correct_owner_count(organization_id, None, max(owners, 1))
    if migrated:
        logger.info("migrated %d accounts to memberships", migrated)
    return migrated
