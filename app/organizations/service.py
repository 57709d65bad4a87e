"""The organization lifecycle: create, look up, rename and delete, with their tenant collections.

Each operation is a sequence of steps over several collections that MongoDB cannot commit
atomically without a replica set. The registry records the operation before it starts
(`LifecycleState`), identifier claims keep collection names exclusive throughout, and a step
that fails undoes the steps before it.
"""

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import anyio
from bson import ObjectId

from app.auth.models import Account, Role
from app.auth.passwords import PasswordHasher
from app.auth.permissions import Action, require
from app.auth.principal import Principal
from app.auth.repository import AccountRepository, EmailTaken
from app.auth.service import AuthService
from app.db.naming import identifier_for, name_key, tenant_collection_for
from app.organizations.errors import (
    EmailAlreadyRegistered,
    NotYourOrganization,
    OperationInProgress,
    OrganizationNameTaken,
    OrganizationNotFound,
)
from app.organizations.models import LifecycleState, Organization, PendingRename
from app.organizations.repository import (
    DuplicateOrganization,
    IdentifierClaims,
    OrganizationRepository,
)
from app.organizations.tenants import TenantCollections

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OrganizationView:
    organization: Organization
    admin_email: str


@dataclass(frozen=True, slots=True)
class RenameOutcome:
    organization: Organization
    previous_collection: str
    documents_migrated: int


class OrganizationService:
    def __init__(
        self,
        organizations: OrganizationRepository,
        claims: IdentifierClaims,
        accounts: AccountRepository,
        tenants: TenantCollections,
        hasher: PasswordHasher,
        auth: AuthService,
    ) -> None:
        self._organizations = organizations
        self._claims = claims
        self._accounts = accounts
        self._tenants = tenants
        self._hasher = hasher
        self._auth = auth

    async def create(self, name: str, email: str, password: str) -> OrganizationView:
        """Register an organization, its owner account and its (empty) tenant collection.

        `name` must already be normalized (see `app.db.naming.validate_name`).
        """
        if await self._accounts.find_by_email(email) is not None:
            raise EmailAlreadyRegistered()

        now = datetime.now(UTC)
        identifier = identifier_for(name)
        organization = Organization(
            id=ObjectId(),
            name=name,
            name_key=name_key(name),
            identifier=identifier,
            tenant_collection=tenant_collection_for(identifier),
            admin_id=ObjectId(),
            state=LifecycleState.PROVISIONING,
            created_at=now,
            modified_at=now,
        )
        if not await self._claims.claim(identifier, organization.id):
            raise OrganizationNameTaken()

        registered = collection_created = False
        try:
            password_hash = await self._hasher.hash(password)
            try:
                await self._organizations.insert(organization)
            except DuplicateOrganization:
                raise OrganizationNameTaken() from None
            registered = True
            owner = Account(
                id=organization.admin_id,
                email=email,
                password_hash=password_hash,
                organization_id=organization.id,
                role=Role.OWNER,
                created_at=now,
            )
            try:
                await self._accounts.insert(owner)
            except EmailTaken:
                raise EmailAlreadyRegistered() from None
            collection_created = await self._tenants.create(organization.tenant_collection)
            await self._organizations.set_state(
                organization.id, LifecycleState.PROVISIONING, LifecycleState.ACTIVE
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._undo_create(organization, registered, collection_created)
            raise
        return OrganizationView(_activated(organization), email)

    async def get_by_name(self, name: str) -> OrganizationView:
        organization = await self._organizations.find_visible_by_name_key(name_key(name))
        if organization is None:
            raise OrganizationNotFound()
        admin = await self._accounts.get(organization.admin_id)
        return OrganizationView(organization, admin.email if admin else "")

    async def rename(
        self, principal: Principal, new_name: str, email: str, password: str
    ) -> RenameOutcome:
        """Rename the caller's organization, moving its tenant collection when the slug changes.

        `new_name` must already be normalized.
        """
        require(principal.role, Action.EDIT_ORGANIZATION)
        await self._auth.reauthenticate(principal, email, password)

        current = await self._organizations.get_visible(principal.organization_id)
        if current is None:
            raise OrganizationNotFound()
        if current.state is not LifecycleState.ACTIVE:
            raise OperationInProgress()

        target = PendingRename(
            name=new_name,
            name_key=name_key(new_name),
            identifier=identifier_for(new_name),
            tenant_collection=tenant_collection_for(identifier_for(new_name)),
        )
        if target.identifier == current.identifier:
            # Same slug (a change of case or punctuation): nothing moves.
            if not await self._organizations.rewrite_name(current, target.name, target.name_key):
                raise OperationInProgress()
            return RenameOutcome(_renamed(current, target), current.tenant_collection, 0)

        if not await self._claims.claim(target.identifier, current.id):
            raise OrganizationNameTaken()
        if not await self._organizations.begin_rename(current, target):
            await self._claims.release(target.identifier, current.id)
            raise OperationInProgress()
        try:
            await self._tenants.rename(current.tenant_collection, target.tenant_collection)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._organizations.abandon_rename(current.id)
                await self._claims.release(target.identifier, current.id)
            raise
        await self._organizations.complete_rename(current.id, target)
        await self._claims.release(current.identifier, current.id)
        migrated = await self._tenants.count(target.tenant_collection)
        logger.info(
            "organization %s renamed: %s -> %s (%d documents)",
            current.id,
            current.tenant_collection,
            target.tenant_collection,
            migrated,
        )
        return RenameOutcome(_renamed(current, target), current.tenant_collection, migrated)

    async def delete(self, principal: Principal, name: str) -> None:
        """Delete the named organization, which must be the caller's, with all its data."""
        organization = await self._organizations.find_visible_by_name_key(name_key(name))
        if organization is None:
            raise OrganizationNotFound()
        if organization.id != principal.organization_id:
            raise NotYourOrganization()
        require(principal.role, Action.DELETE_ORGANIZATION)
        if not await self._organizations.set_state(
            organization.id, LifecycleState.ACTIVE, LifecycleState.DELETING
        ):
            raise OperationInProgress()
        # From here the organization is invisible and its tokens are refused; each step below
        # is idempotent, so an interrupted delete can be finished by running them again.
        with anyio.CancelScope(shield=True):
            await self._tenants.drop(organization.tenant_collection)
            await self._accounts.delete_for_organization(organization.id)
            await self._organizations.delete(organization.id)
            await self._claims.release(organization.identifier, organization.id)
        logger.info(
            "organization %s deleted with %s", organization.id, organization.tenant_collection
        )

    async def _undo_create(
        self, organization: Organization, registered: bool, collection_created: bool
    ) -> None:
        try:
            if collection_created:
                await self._tenants.drop(organization.tenant_collection)
            if registered:
                await self._accounts.delete(organization.admin_id)
                await self._organizations.delete(organization.id)
            await self._claims.release(organization.identifier, organization.id)
        except Exception:
            logger.exception(
                "could not undo the failed creation of organization %s; "
                "its registry entry is left in state %s for repair",
                organization.id,
                LifecycleState.PROVISIONING.value,
            )


def _activated(organization: Organization) -> Organization:
    return replace(organization, state=LifecycleState.ACTIVE)


def _renamed(organization: Organization, target: PendingRename) -> Organization:
    return replace(
        organization,
        name=target.name,
        name_key=target.name_key,
        identifier=target.identifier,
        tenant_collection=target.tenant_collection,
    )
