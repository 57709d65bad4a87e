"""Organizations through the contract and the versioned API: create, look up, rename and
delete, with their tenant collections (the steps are `app.organizations.lifecycle`'s)."""

import logging
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial

import anyio
from bson import ObjectId

from app.access.passwords import PasswordHasher
from app.access.permissions import Permission, require
from app.access.principal import Principal
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.db.naming import identifier_for, name_key, tenant_collection_for
from app.db.retry import again
from app.errors import Conflict, Forbidden
from app.events.catalogue import EventType
from app.events.models import Actor, Draft
from app.events.outbox import Outbox
from app.events.subjects import organization_data, organization_event_subject
from app.observability.metrics import Metrics
from app.organizations.deletion_events import deleting_for_good
from app.organizations.lifecycle import Lifecycle, NewOwner
from app.organizations.signups import SignupThrottle
from app.registry.errors import (
    ExistingAccountPasswordMismatch,
    NotYourOrganization,
    OperationInProgress,
    OrganizationNameTaken,
    OrganizationNotFound,
)
from app.registry.models import LifecycleState, Organization, PendingRename
from app.registry.placement import TenantPlacement
from app.registry.repository import DuplicateOrganization, OrganizationRepository
from app.registry.tenants import TenantCollections
from app.sessions.service import LoginResult, SessionService

logger = logging.getLogger(__name__)

# How long a place recorded against an account's limit is kept even though its organization
# has no registry entry: the create that took it may not have registered it yet.
FOUNDING_GRACE = timedelta(minutes=10)


class OrganizationLimitReached(Conflict):
    code = "organization_limit_reached"
    detail = "This account has created as many organizations as it may; delete one first"
    title = "The account has reached MAX_ORGANIZATIONS_PER_ACCOUNT organizations created"


class AccountRequired(Forbidden):
    code = "account_required"
    detail = "Only a signed-in account can do this, not an API key"


@dataclass(frozen=True, slots=True)
class OrganizationView:
    organization: Organization
    admin_email: str


@dataclass(frozen=True, slots=True)
class Founded:
    """An organization a signed-in account created, and a token acting for it."""

    view: OrganizationView
    login: LoginResult


@dataclass(frozen=True, slots=True)
class RenameOutcome:
    organization: Organization
    previous_collection: str
    documents_migrated: int


class OrganizationService:
    """Who may create, rename and delete organizations, and what is recorded about it; the
    steps themselves are the lifecycle's."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        organizations: OrganizationRepository,
        accounts: AccountRepository,
        tenants: TenantCollections,
        hasher: PasswordHasher,
        sessions: SessionService,
        metrics: Metrics,
        audit: AuditTrail,
        placement: TenantPlacement,
        signups: SignupThrottle,
        events: Outbox,
        *,
        founding_limit: int = 0,
    ) -> None:
        self._lifecycle = lifecycle
        self._organizations = organizations
        self._accounts = accounts
        self._tenants = tenants
        self._hasher = hasher
        self._auth = sessions
        self._metrics = metrics
        self._audit = audit
        self._placement = placement
        self._signups = signups
        self._founding_limit = founding_limit
        self._events = events

    async def create(self, name: str, email: str, password: str, address: str) -> OrganizationView:
        """Register an organization, its owner and its (empty) tenant collection.

        The owner is a new account, or the existing account with that email when `password`
        is its password. `name` must already be normalized (`app.db.naming.validate_name`).
        Counted by the sign-up throttle first, before any password check or collection.
        """
        await self._signups.admit(address)
        existing = await self._accounts.find_by_email(email)
        if existing is not None and not await self._auth.verify_existing(
            existing, password, address
        ):
            raise ExistingAccountPasswordMismatch()

        new_owner = None if existing else NewOwner(email, partial(self._hasher.hash, password))
        owner_email = existing.email if existing else email
        organization = await self._register(
            ObjectId(), name, existing.id if existing else ObjectId(), new_owner, owner_email
        )
        await self._audit.record(
            AuditAction.ORGANIZATION_CREATE,
            organization_id=organization.id,
            actor_id=organization.admin_id,
            actor_email=owner_email,
            target=organization.name,
        )
        return OrganizationView(organization, owner_email)

    async def register(
        self,
        name: str,
        *,
        existing: Account | None,
        email: str | None,
        password: str | None,
        actor: Actor,
    ) -> OrganizationView:
        """Register an organization for an operator: owned by `existing`, or by a new account
        with `email` and `password`; placed, claimed and recorded as a sign-up is, with
        `actor` as the event's. No throttle and no password check of an existing account:
        the caller is trusted. `name` must already be normalized."""
        new_owner = None
        if existing is None:
            if email is None or password is None:
                raise ValueError("a new owner needs an email and a password")
            new_owner = NewOwner(email, partial(self._hasher.hash, password))
        owner_email = existing.email if existing else email or ""
        organization = await self._register(
            ObjectId(),
            name,
            existing.id if existing else ObjectId(),
            new_owner,
            owner_email,
            actor=actor,
        )
        return OrganizationView(organization, owner_email)

    async def create_for(self, principal: Principal, name: str) -> Founded:
        """Create an organization owned by the caller's account, and a token for it.

        Counted against the account's limit first (`founded_organizations` on the account):
        the place is taken by one conditional write, and given back if the create fails.
        `name` must already be normalized.
        """
        if principal.is_key:
            raise AccountRequired()
        organization_id = ObjectId()
        await self._take_founding_place(principal.account_id, organization_id)
        try:
            organization = await self._register(
                organization_id, name, principal.account_id, None, principal.email
            )
        except BaseException:
            if self._founding_limit:
                with anyio.CancelScope(shield=True):
                    await self._give_back_place(principal.account_id, organization_id)
            raise
        # The organization is active: what follows is answered as done.
        await self._audit.record(
            AuditAction.ORGANIZATION_CREATE,
            organization_id=organization.id,
            actor_id=principal.account_id,
            actor_email=principal.email,
            target=organization.name,
            details={"signed_in_from": str(principal.organization_id)},
        )
        login = await again(lambda: self._auth.enter(principal.account_id, organization.id))
        return Founded(OrganizationView(organization, principal.email), login)

    async def _take_founding_place(self, account_id: ObjectId, organization_id: ObjectId) -> None:
        """Record the organization against the account's limit, or raise when it is reached.

        A full record is checked once against the registry: places of organizations that no
        longer exist (deleted, or whose create failed without giving its place back) are
        given back first, provided they are older than `FOUNDING_GRACE`; a younger one may be
        a create under way that has not registered its organization yet.
        """
        limit = self._founding_limit
        if not limit:
            return
        if await self._accounts.reserve_founding(account_id, organization_id, limit):
            return
        recorded = await self._accounts.founded(account_id)
        existing = await self._organizations.existing(recorded)
        settled = datetime.now(UTC) - FOUNDING_GRACE
        gone = [
            founded
            for founded in recorded
            if founded not in existing and founded.generation_time < settled
        ]
        if gone:
            await self._accounts.forget_founded(account_id, gone)
            if await self._accounts.reserve_founding(account_id, organization_id, limit):
                return
        raise OrganizationLimitReached(
            f"An account may create at most {limit} organizations; delete one first"
        )

    async def _give_back_place(self, account_id: ObjectId, organization_id: ObjectId) -> None:
        try:
            await again(lambda: self._accounts.forget_founded(account_id, [organization_id]))
        except Exception:
            # Not lost: the next create that finds the limit reached gives it back.
            logger.exception(
                "could not give back the place of organization %s not created", organization_id
            )

    async def _register(
        self,
        organization_id: ObjectId,
        name: str,
        admin_id: ObjectId,
        new_owner: NewOwner | None,
        owner_email: str,
        *,
        actor: Actor | None = None,
    ) -> Organization:
        """Run the lifecycle's create for an organization placed as usual; the active entry.
        The event's actor is the owner unless `actor` says otherwise."""
        now = datetime.now(UTC)
        identifier = identifier_for(name)
        organization = Organization(
            id=organization_id,
            name=name,
            name_key=name_key(name),
            identifier=identifier,
            tenant_collection=tenant_collection_for(identifier),
            admin_id=admin_id,
            state=LifecycleState.PROVISIONING,
            created_at=now,
            modified_at=now,
            tenant_database=await self._placement.choose(organization_id),
        )
        try:
            async with self._events.recording(
                EventType.ORGANIZATION_CREATED,
                organization.id,
                actor or Actor.account(organization.admin_id, owner_email),
                organization_data(organization, owner_email),
                organization_event_subject(organization.id),
            ):
                await self._lifecycle.create(organization, new_owner)
        except BaseException:
            self._placement.forget(organization.tenant_database)
            raise
        return replace(organization, state=LifecycleState.ACTIVE)

    async def get_by_name(self, name: str) -> OrganizationView:
        organization = await self._organizations.find_visible_by_name_key(name_key(name))
        if organization is None:
            raise OrganizationNotFound()
        admin_email = await self._accounts.email_of(organization.admin_id)
        return OrganizationView(organization, admin_email or "")

    async def rename(
        self, principal: Principal, new_name: str, email: str, password: str, address: str
    ) -> RenameOutcome:
        """Rename the caller's organization, moving its tenant collection when the slug changes.

        `new_name` must already be normalized.
        """
        await self._auth.reauthenticate(principal, email, password, address)
        return await self.rename_as(principal, new_name)

    async def rename_as(self, principal: Principal, new_name: str) -> RenameOutcome:
        """The rename itself, for a caller already authenticated (no credential re-check)."""
        require(principal, Permission.EDIT_ORGANIZATION)
        await self._organizations.require_writable(principal.organization_id)
        current = await self._organizations.get_visible(principal.organization_id)
        if current is None:
            raise OrganizationNotFound()
        if current.state is not LifecycleState.ACTIVE:
            raise OperationInProgress()

        identifier = identifier_for(new_name)
        target = PendingRename(
            name=new_name,
            name_key=name_key(new_name),
            identifier=identifier,
            tenant_collection=tenant_collection_for(identifier),
        )
        if target.identifier == current.identifier:
            # Same slug (a change of case or punctuation): the collection stays where it is.
            try:
                async with self._renaming(principal, current, target):
                    rewritten = await self._organizations.rewrite_name(
                        current, target.name, target.name_key
                    )
                    if not rewritten:
                        raise OperationInProgress()
            except DuplicateOrganization:
                raise OrganizationNameTaken() from None
            documents = await self._tenants.count(current.namespace)
            await self._record_rename(principal, current, target)
            return RenameOutcome(_renamed(current, target), current.tenant_collection, documents)

        started = time.perf_counter()
        async with self._renaming(principal, current, target):
            done = await self._lifecycle.rename(current, target)
        self._metrics.rename_duration.labels(done.how).observe(time.perf_counter() - started)
        migrated = done.documents
        logger.info(
            "organization %s renamed: %s -> %s (%d documents)",
            current.id,
            current.tenant_collection,
            target.tenant_collection,
            migrated,
        )
        await self._record_rename(principal, current, target)
        return RenameOutcome(_renamed(current, target), current.tenant_collection, migrated)

    def _renaming(
        self, principal: Principal, current: Organization, target: PendingRename
    ) -> AbstractAsyncContextManager[Draft]:
        data = organization_data(_renamed(current, target))
        data["previous"] = {
            "organization_name": current.name,
            "organization_identifier": current.identifier,
            "tenant_collection": current.tenant_collection,
        }
        return self._events.recording(
            EventType.ORGANIZATION_RENAMED,
            current.id,
            Actor.of(principal),
            data,
            organization_event_subject(
                current.id, name=target.name, tenant_collection=target.tenant_collection
            ),
        )

    async def _record_rename(
        self, principal: Principal, current: Organization, target: PendingRename
    ) -> None:
        await self._audit.record(
            AuditAction.ORGANIZATION_RENAME,
            **actor_fields(principal),
            target=target.name,
            details={"from": current.name, "collection": target.tenant_collection},
        )

    async def delete(self, principal: Principal, name: str) -> None:
        """Delete the named organization, which must be the caller's, with all its data."""
        organization = await self._organizations.find_visible_by_name_key(name_key(name))
        if organization is None:
            raise OrganizationNotFound()
        if organization.id != principal.organization_id:
            raise NotYourOrganization()
        await self.delete_as(principal, organization)

    async def delete_by_id(self, principal: Principal) -> None:
        """Delete the organization the caller's token acts for."""
        organization = await self._organizations.get_visible(principal.organization_id)
        if organization is None:
            raise OrganizationNotFound()
        await self.delete_as(principal, organization)

    async def delete_as(self, principal: Principal, organization: Organization) -> None:
        require(principal, Permission.DELETE_ORGANIZATION)
        async with deleting_for_good(self._events, Actor.of(principal), organization):
            await self._lifecycle.delete(organization)
        logger.info(
            "organization %s deleted with %s", organization.id, organization.tenant_collection
        )
        await self._audit.record(
            AuditAction.ORGANIZATION_DELETE, **actor_fields(principal), target=organization.name
        )


def _renamed(organization: Organization, target: PendingRename) -> Organization:
    return replace(
        organization,
        name=target.name,
        name_key=target.name_key,
        identifier=target.identifier,
        tenant_collection=target.tenant_collection,
    )
