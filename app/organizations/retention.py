"""Soft delete: the versioned API's delete keeps an organization in the trash for the
retention period (`DELETED_RETENTION_DAYS`), where its owners can restore it; the period's
end, or an owner's `purge`, deletes it for good. The steps are `app.organizations.lifecycle`'s.

While deleted, the organization's tokens are refused (its state is not visible), so a restore
is authenticated by the email and password of one of its owners, counted by the login
throttle like every password check.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from app.access.passwords import PasswordHasher
from app.access.permissions import Permission, grant_of, require
from app.access.principal import Principal
from app.accounts.memberships import MembershipRepository
from app.accounts.repository import AccountRepository
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.db.naming import trash_collection_for
from app.errors import Conflict, InvalidCredentials, InvalidInput, NotFound
from app.events.models import SYSTEM, Actor
from app.events.outbox import Outbox
from app.kit.stopping import step
from app.organizations.deletion_events import deleting, deleting_for_good, purging, restoring
from app.organizations.lifecycle import Lifecycle
from app.registry.errors import OperationInProgress, OrganizationNotFound
from app.registry.models import LifecycleState, Organization, Trash
from app.registry.repository import OrganizationRepository
from app.sessions.service import SessionService

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class DeletedOrganizationNotFound(NotFound):
    code = "deleted_organization_not_found"
    detail = (
        "No deleted organization with that id has you as owner; one past its retention "
        "period is purged and cannot be restored"
    )


class OrganizationNotDeleted(Conflict):
    code = "organization_not_deleted"
    detail = "The organization is not deleted; there is nothing to restore"


@dataclass(frozen=True, slots=True)
class Confirmation:
    email: str
    password: str


@dataclass(frozen=True, slots=True)
class Deletion:
    """What a delete did: `trash` is None when the organization was purged at once."""

    organization: Organization
    trash: Trash | None


def _now() -> datetime:
    return datetime.now(UTC)


class Retention:
    def __init__(
        self,
        lifecycle: Lifecycle,
        organizations: OrganizationRepository,
        accounts: AccountRepository,
        memberships: MembershipRepository,
        sessions: SessionService,
        hasher: PasswordHasher,
        audit: AuditTrail,
        events: Outbox,
        *,
        retention: timedelta,
        clock: Clock = _now,
    ) -> None:
        self._events = events
        self._lifecycle = lifecycle
        self._organizations = organizations
        self._accounts = accounts
        self._memberships = memberships
        self._sessions = sessions
        self._hasher = hasher
        self._audit = audit
        self._retention = retention
        self._clock = clock

    async def delete(
        self,
        principal: Principal,
        *,
        purge: bool,
        confirmation: Confirmation | None = None,
        address: str = "",
    ) -> Deletion:
        """Delete the caller's organization into the trash; for good at once with `purge`,
        which takes `confirmation` (the caller's own email and password, checked like the
        contract's rename), or when the retention period is zero."""
        require(principal, Permission.DELETE_ORGANIZATION)
        if purge:
            if confirmation is None:
                raise InvalidInput(
                    ["body", "password"],
                    "purging for good takes your own email and password to confirm it",
                )
            await self._sessions.reauthenticate(
                principal, confirmation.email, confirmation.password, address
            )
        organization = await self._organizations.get_visible(principal.organization_id)
        if organization is None:
            raise OrganizationNotFound()
        return await self.delete_as(principal, organization, purge=purge)

    async def delete_as(
        self, principal: Principal, organization: Organization, *, purge: bool
    ) -> Deletion:
        """The delete itself, for a caller already checked (an owner, or an operator acting
        as one); the event names `principal` as actor."""
        require(principal, Permission.DELETE_ORGANIZATION)
        actor = Actor.of(principal)
        if purge or not self._retention:
            async with deleting_for_good(self._events, actor, organization):
                await self._lifecycle.delete(organization)
            logger.info("organization %s purged on deletion", organization.id)
            await self._audit.record(
                AuditAction.ORGANIZATION_PURGE,
                **actor_fields(principal),
                target=organization.name,
                details={"collection": organization.tenant_collection, "at_once": True},
            )
            return Deletion(organization, None)
        if organization.state is not LifecycleState.ACTIVE:
            raise OperationInProgress()
        now = self._clock()
        trash = Trash(
            collection=trash_collection_for(organization.identifier, str(organization.id)),
            deleted_at=now,
            purge_after=now + self._retention,
        )
        async with deleting(self._events, actor, organization, trash):
            deleted = await self._lifecycle.trash(organization, trash)
        logger.info("organization %s deleted into %s", organization.id, trash.collection)
        await self._audit.record(
            AuditAction.ORGANIZATION_DELETE,
            **actor_fields(principal),
            target=organization.name,
            details={"trash_collection": trash.collection, "purge_after": trash.purge_after},
        )
        return Deletion(deleted, trash)

    async def restore(
        self, organization_id: ObjectId, email: str, password: str, address: str
    ) -> tuple[Organization, Trash]:
        """Restore a deleted organization for one of its owners, who proves it with their
        email and password; the organization as restored, and the stay in the trash."""
        account = await self._accounts.find_by_email(email)
        if account is None:
            # An unknown email costs one bcrypt check too, and fails the same way.
            await self._hasher.verify(password, None)
            raise InvalidCredentials()
        if not await self._sessions.verify_existing(account, password, address):
            raise InvalidCredentials()
        membership = await self._memberships.get(account.id, organization_id)
        organization = await self._organizations.get(organization_id)
        if membership is None or organization is None:
            raise DeletedOrganizationNotFound()
        # Restoring is an owner's act: no custom role restores, whatever it grants.
        require(grant_of(membership.role), Permission.DELETE_ORGANIZATION)
        return await self.restore_as(
            Actor.account(account.id, account.email),
            organization,
            {"actor_id": account.id, "actor_email": account.email},
        )

    async def restore_as(
        self, actor: Actor, organization: Organization, audited_as: dict[str, Any]
    ) -> tuple[Organization, Trash]:
        """The restore itself, for a caller already checked; `audited_as` names it in the
        audit log (`actor_id`, `actor_email`, `actor_key`)."""
        if organization.visible:
            raise OrganizationNotDeleted()
        if organization.state is not LifecycleState.DELETED or organization.trash is None:
            raise OperationInProgress()
        async with restoring(self._events, actor, organization):
            restored = await self._lifecycle.restore(organization)
        logger.info("organization %s restored from %s", organization.id, organization.trash)
        await self._audit.record(
            AuditAction.ORGANIZATION_RESTORE,
            organization_id=organization.id,
            **audited_as,
            target=organization.name,
            details={"trash_collection": organization.trash.collection},
        )
        return restored, organization.trash

    async def purge_as(self, principal: Principal, organization: Organization) -> None:
        """Purge a deleted organization now, before its retention period ends."""
        require(principal, Permission.DELETE_ORGANIZATION)
        if organization.state is not LifecycleState.DELETED:
            raise OrganizationNotDeleted()
        async with purging(self._events, Actor.of(principal), organization) as draft:
            if not await self._lifecycle.purge(organization):
                draft.skip()
                raise OrganizationNotDeleted()
        logger.info("organization %s purged before its retention period ended", organization.id)
        await self._audit.record(
            AuditAction.ORGANIZATION_PURGE,
            **actor_fields(principal),
            target=organization.name,
            details={
                "trash_collection": organization.trash.collection if organization.trash else None
            },
        )


class PurgeSweep:
    """Purges the deleted organizations whose retention period has ended."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        organizations: OrganizationRepository,
        audit: AuditTrail,
        events: Outbox,
        *,
        clock: Clock = _now,
    ) -> None:
        self._lifecycle = lifecycle
        self._organizations = organizations
        self._audit = audit
        self._events = events
        self._clock = clock

    async def run(self, limit: int = 100) -> list[ObjectId]:
        """Purge the deleted organizations whose retention period has ended; the ids purged.

        Safe to run in every instance at once: each purge begins with a conditional change
        of state (`OrganizationRepository.begin_purge`) that only one sweeper (or a restore)
        wins; an instance that dies during a purge leaves a DELETING entry that recovery
        finishes.
        """
        now = self._clock()
        purged: list[ObjectId] = []
        for organization in await self._organizations.due_purges(now, limit):
            try:
                async with purging(self._events, SYSTEM, organization) as draft:
                    if not await self._lifecycle.purge(organization, due_by=now):
                        draft.skip()
                if draft.skipped:
                    continue
            except Exception:
                logger.exception(
                    "purge of organization %s failed; recovery will finish it", organization.id
                )
                continue
            purged.append(organization.id)
            logger.info("organization %s purged after its retention period", organization.id)
            await self._audit.record(
                AuditAction.ORGANIZATION_PURGE,
                organization_id=organization.id,
                target=organization.name,
                details={
                    "trash_collection": organization.trash.collection
                    if organization.trash
                    else None,
                    "purge_after": organization.trash.purge_after if organization.trash else None,
                },
            )
        return purged


async def sweep_periodically(sweep: PurgeSweep, interval: timedelta) -> None:
    """Purge what is due every `interval`, for as long as the service runs (start-up has
    swept once already)."""
    while True:
        await asyncio.sleep(interval.total_seconds())
        try:
            await step(sweep.run())
        except Exception:
            logger.exception("retention sweep failed; retrying in %s", interval)
