"""The operator's management of every organization, for a platform key: search, read,
create, add members, change plan, suspend, reactivate, delete, restore, purge.

Changes go through the features' own services and the lifecycle, as the organization's own
owner would make them: the key acts with an owner's rights in the organization it manages
(`_acting_in`), so every rule (suspension, seats, the lifecycle's steps) holds, every
change is audited with the key as actor (`actor_key` its prefix, `actor_email` its name),
and every change records its event with the key as actor (`operator`, `id` its prefix).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from bson import ObjectId

from app.access.permissions import BUILTIN_PERMISSIONS
from app.access.principal import Principal
from app.access.roles import Role
from app.accounts.event_subjects import membership_subject
from app.accounts.memberships import AlreadyMember, MembershipRepository
from app.accounts.models import Account, Membership
from app.accounts.repository import AccountRepository
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.billing.service import BillingService, BillingView
from app.db.keyset import Keyset, Kind, Slice, Window
from app.db.retry import again
from app.errors import Conflict, InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.models import Actor
from app.events.outbox import Outbox
from app.invitations.seats import Seats
from app.kit.times import rfc3339
from app.members.service import MemberView
from app.organizations.directory import OrganizationDetails, OrganizationDirectory
from app.organizations.retention import Deletion, Retention
from app.organizations.service import OrganizationService, OrganizationView
from app.plans import Plan, Plans
from app.platform.models import PlatformKey
from app.registry.errors import OrganizationNotFound
from app.registry.models import LifecycleState, Organization, Status
from app.registry.repository import OrganizationRepository, OrganizationSearch
from app.workspaces.access import WorkspaceAccess
from app.workspaces.models import WorkspaceRole

# An account's memberships, oldest first; a membership's `_id` is a string.
OLDEST_MEMBERSHIP_FIRST = Keyset(
    "platform_account_organizations", "created_at", Kind.DATETIME, id_kind=Kind.STRING
)


class AccountNotFound(NotFound):
    code = "no_such_account"
    detail = "No account has that id or email"


class AlreadyMemberOf(Conflict):
    code = "already_member_of_organization"
    detail = "The account is already a member of the organization"


class NewOwnerNeedsPassword(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            ("body", "owner_password"), "no account has this email: give the new owner a password"
        )


@dataclass(frozen=True, slots=True)
class OrganizationRow:
    organization: Organization
    plan: Plan
    domain: str | None


@dataclass(frozen=True, slots=True)
class Owner:
    account_id: ObjectId
    email: str


@dataclass(frozen=True, slots=True)
class ManagedOrganization:
    details: OrganizationDetails
    plan: Plan
    owners: list[Owner]


@dataclass(frozen=True, slots=True)
class AccountOrganization:
    organization: Organization
    membership: Membership


@dataclass(frozen=True, slots=True)
class OwnerChoice:
    """Who owns a new organization: an existing account (by id or email), or a new one."""

    account_id: ObjectId | None = None
    email: str | None = None
    password: str | None = None


class PlatformAdministration:
    def __init__(
        self,
        *,
        organizations: OrganizationRepository,
        accounts: AccountRepository,
        memberships: MembershipRepository,
        workspaces: WorkspaceAccess,
        directory: OrganizationDirectory,
        organization_service: OrganizationService,
        billing: BillingService,
        retention: Retention,
        seats: Seats,
        plans: Plans,
        audit: AuditTrail,
        events: Outbox,
    ) -> None:
        self._organizations = organizations
        self._accounts = accounts
        self._memberships = memberships
        self._workspaces = workspaces
        self._directory = directory
        self._organization_service = organization_service
        self._billing = billing
        self._retention = retention
        self._seats = seats
        self._plans = plans
        self._audit = audit
        self._events = events

    @property
    def default_plan(self) -> Plan:
        return self._plans.default

    async def search(self, where: OrganizationSearch, window: Window) -> Slice[OrganizationRow]:
        page = await self._organizations.search_page(where, window)
        rows = []
        for document in page.items:
            profile = document.get("profile") or {}
            domain = profile.get("domain")
            rows.append(
                OrganizationRow(
                    Organization.from_document(document),
                    self._plans.of(document.get("plan")),
                    domain if isinstance(domain, str) else None,
                )
            )
        return page.with_items(rows)

    async def read(self, key: PlatformKey, organization_id: ObjectId) -> ManagedOrganization:
        """Any organization, whatever its state, with its statistics and owners."""
        organization = await self._managed(organization_id, visible_only=False)
        details = await self._directory.details(self._acting_in(key, organization), organization)
        owner_ids = await self._memberships.owner_ids(organization.id)
        emails = await self._accounts.emails_of(owner_ids)
        owners = sorted(
            (Owner(owner, emails.get(owner, "")) for owner in owner_ids),
            key=lambda owner: owner.email,
        )
        plan = self._plans.of(await self._organizations.plan_of(organization.id))
        return ManagedOrganization(details, plan, owners)

    async def account(
        self, account_id: ObjectId | None = None, email: str | None = None
    ) -> Account:
        found = None
        if account_id is not None:
            found = await self._accounts.get(account_id)
        elif email is not None:
            found = await self._accounts.find_by_email(email)
        if found is None:
            raise AccountNotFound()
        return found

    async def organizations_of(
        self, account_id: ObjectId, window: Window
    ) -> Slice[AccountOrganization]:
        """The account's organizations with its role in each, oldest membership first."""
        await self.account(account_id)
        reading = OLDEST_MEMBERSHIP_FIRST.read(window, account=account_id)
        memberships = await self._memberships.for_account(account_id)
        visible = {
            organization.id: organization
            for organization in await self._organizations.list_visible(
                [membership.organization_id for membership in memberships]
            )
        }
        pairs = [
            AccountOrganization(visible[m.organization_id], m)
            for m in memberships
            if m.organization_id in visible
        ]
        return reading.select(pairs, lambda pair: (pair.membership.created_at, pair.membership.id))

    async def create(self, key: PlatformKey, name: str, owner: OwnerChoice) -> OrganizationView:
        """Create an organization through the organizations service's own registration (its
        placement, claims, crash-safety and `organization.created` event), for an existing
        account without its password, or a new account. No sign-up throttle: the caller is
        the operator's own back end."""
        existing = None
        if owner.account_id is not None:
            existing = await self.account(owner.account_id)
        elif owner.email is not None:
            existing = await self._accounts.find_by_email(owner.email)
        if existing is None and (owner.email is None or owner.password is None):
            raise NewOwnerNeedsPassword()
        view = await self._organization_service.register(
            name,
            existing=existing,
            email=owner.email,
            password=owner.password,
            actor=Actor.platform_key(key.prefix),
        )
        organization = view.organization
        await self._audit.record(
            AuditAction.ORGANIZATION_CREATE,
            **actor_fields(self._acting_in(key, organization)),
            target=organization.name,
            details={"owner": view.admin_email, "new_account": existing is None},
        )
        return view

    async def add_member(
        self, key: PlatformKey, organization_id: ObjectId, account: Account, role: Role
    ) -> MemberView:
        """Make the account a member directly, no invitation, within the plan's seats."""
        organization = await self._managed(organization_id)
        await self._organizations.require_writable(organization.id)
        async with (
            self._seats.taking_one(organization.id),
            self._events.recording(
                EventType.MEMBER_ADDED,
                organization.id,
                Actor.platform_key(key.prefix),
                {"account_id": str(account.id), "email": account.email, "role": role.value},
                membership_subject(account.id, organization.id, role=role.value),
            ) as draft,
        ):
            try:
                membership = await self._memberships.add(account.id, organization.id, role)
            except AlreadyMember:
                raise AlreadyMemberOf() from None
            draft.data = {**draft.data, "joined_at": rfc3339(membership.created_at)}
        # The membership is in effect: what follows it is finished, not undone.
        if role is Role.OWNER:
            await again(lambda: self._organizations.add_owner_seat(organization.id))
        else:
            await again(lambda: self._seat_in_default_workspace(organization.id, account, role))
        await self._audit.record(
            AuditAction.MEMBER_ADD,
            **actor_fields(self._acting_in(key, organization)),
            target=str(account.id),
            details={"role": role.value, "email": account.email},
        )
        return MemberView(account.id, account.email, role, membership.created_at)

    async def change_plan(
        self, key: PlatformKey, organization_id: ObjectId, plan: Plan
    ) -> BillingView:
        organization = await self._managed(organization_id)
        return await self._billing.update(self._acting_in(key, organization), {"plan": plan})

    async def set_status(
        self, key: PlatformKey, organization_id: ObjectId, status: Status
    ) -> ManagedOrganization:
        organization = await self._managed(organization_id)
        await self._directory.set_status(self._acting_in(key, organization), status)
        return await self.read(key, organization_id)

    async def delete(self, key: PlatformKey, organization_id: ObjectId, *, purge: bool) -> Deletion:
        """Delete as the organization's owner would: into the trash for the retention period,
        or with `purge` for good at once; `purge` also purges one already in the trash."""
        organization = await self._managed(organization_id, visible_only=False)
        acting = self._acting_in(key, organization)
        if purge and organization.state is LifecycleState.DELETED:
            await self._retention.purge_as(acting, organization)
            return Deletion(organization, None)
        if not organization.visible:
            raise OrganizationNotFound()
        return await self._retention.delete_as(acting, organization, purge=purge)

    async def restore(self, key: PlatformKey, organization_id: ObjectId) -> ManagedOrganization:
        """Bring a deleted organization back from the trash, with every document."""
        organization = await self._managed(organization_id, visible_only=False)
        audited = actor_fields(self._acting_in(key, organization))
        del audited["organization_id"]
        await self._retention.restore_as(Actor.platform_key(key.prefix), organization, audited)
        return await self.read(key, organization_id)

    async def _managed(
        self, organization_id: ObjectId, *, visible_only: bool = True
    ) -> Organization:
        """The organization a management call acts on: visible ones for changes; reads see
        every state (an operation under way shows in `state`)."""
        if visible_only:
            organization = await self._organizations.get_visible(organization_id)
        else:
            organization = await self._organizations.get(organization_id)
        if organization is None:
            raise OrganizationNotFound()
        return organization

    @staticmethod
    def _acting_in(key: PlatformKey, organization: Organization) -> Principal:
        """The key as the principal of a change in `organization`, with an owner's rights."""
        return Principal(
            account_id=key.id,
            organization_id=organization.id,
            email=key.name,
            role=Role.OWNER,
            permissions=BUILTIN_PERMISSIONS[Role.OWNER],
            token_id=key.prefix,
            token_expires_at=datetime.now(UTC),
            api_key=key.prefix,
        )

    async def _seat_in_default_workspace(
        self, organization_id: ObjectId, account: Account, role: Role
    ) -> None:
        """As an accepted invitation seats a new member: editors, or viewers when the role
        only reads. Owners and admins see every workspace anyway."""
        if role is Role.ADMIN:
            return
        default = await self._workspaces.workspaces.ensure_default(organization_id)
        seat = WorkspaceRole.EDITOR if role is Role.MEMBER else WorkspaceRole.VIEWER
        await self._workspaces.members.put(organization_id, default.id, account.id, seat)
