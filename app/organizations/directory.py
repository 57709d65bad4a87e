"""Organizations as their members see them: listing, details, profile, suspension."""

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from app.access.permissions import Permission, require
from app.access.principal import Principal
from app.accounts.memberships import MembershipRepository
from app.accounts.models import Membership
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.db.keyset import Keyset, Kind, Slice, Window
from app.db.naming import name_key
from app.events.catalogue import EventType
from app.events.models import Actor
from app.events.outbox import Outbox
from app.events.subjects import flatten, organization_data, organization_event_subject
from app.invitations.repository import InvitationRepository
from app.registry.errors import OrganizationNotFound
from app.registry.models import Organization, Status
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCollections
from app.roles.service import RoleService
from app.workspaces.access import WorkspaceAccess
from app.workspaces.models import Workspace


@dataclass(frozen=True, slots=True)
class OrganizationStatistics:
    members: int
    pending_invitations: int
    tenant_documents: int
    tenant_storage_bytes: int | None


@dataclass(frozen=True, slots=True)
class OrganizationDetails:
    organization: Organization
    role: str
    profile: dict[str, Any]
    statistics: OrganizationStatistics
    tenant_database: str


# An account's memberships, oldest first; a membership's `_id` is a string.
OLDEST_MEMBERSHIP_FIRST = Keyset(
    "my_organizations", "created_at", Kind.DATETIME, id_kind=Kind.STRING
)


class OrganizationDirectory:
    def __init__(
        self,
        organizations: OrganizationRepository,
        memberships: MembershipRepository,
        invitations: InvitationRepository,
        tenants: TenantCollections,
        audit: AuditTrail,
        workspaces: WorkspaceAccess,
        events: Outbox,
        roles: RoleService,
    ) -> None:
        self._roles = roles
        self._organizations = organizations
        self._memberships = memberships
        self._invitations = invitations
        self._tenants = tenants
        self._audit = audit
        self._workspaces = workspaces
        self._events = events

    async def mine(
        self, principal: Principal, window: Window, name_contains: str | None = None
    ) -> Slice[tuple[Organization, Membership]]:
        """The caller's organizations with the caller's role in each, oldest membership first:
        keyset pages over the memberships, cut in Python like the lists the database cuts.

        `name_contains` keeps those whose name key holds its key, as a substring: an account
        has a handful of memberships, all read anyway, so the filter is plain text compared
        here and no pattern is ever built from it. It is part of the list's identity, so a
        cursor of one filter is refused by another.
        """
        needle = name_key(name_contains or "")
        reading = OLDEST_MEMBERSHIP_FIRST.read(
            window, account=principal.account_id, name_contains=needle or None
        )
        memberships = await self._memberships.for_account(principal.account_id)
        visible = {
            o.id: o
            for o in await self._organizations.list_visible(
                [m.organization_id for m in memberships]
            )
        }
        pairs = [
            (visible[m.organization_id], m)
            for m in memberships
            if m.organization_id in visible and needle in visible[m.organization_id].name_key
        ]
        return reading.select(pairs, lambda pair: (pair[1].created_at, pair[1].id))

    async def memberships_of(
        self, principal: Principal
    ) -> list[tuple[Organization, str, list[tuple[Workspace, str | None]]]]:
        """The caller's organizations, role in each, and the workspaces open to them there."""
        memberships = await self._memberships.for_account(principal.account_id)
        roles = {m.organization_id: m.role for m in memberships}
        organizations = await self._organizations.list_visible(list(roles))
        order = [m.organization_id for m in memberships]
        organizations.sort(key=lambda o: order.index(o.id))
        result = []
        for organization in organizations:
            role = roles[organization.id]
            held = await self._roles.held(organization.id, role)
            listed = await self._workspaces.workspaces.page(organization.id, None, Window(100))
            mine = await self._workspaces.members.of_account(organization.id, principal.account_id)
            by_id = {m.workspace_id: m.role.value for m in mine}
            # Owners and admins (and custom roles granting `workspaces.manage`) see every
            # workspace; the role is the one a member list shows.
            every = Permission.MANAGE_WORKSPACES in held.permissions
            opened: list[tuple[Workspace, str | None]] = [
                (w, by_id.get(w.id)) for w in listed.items if every or w.id in by_id
            ]
            result.append((organization, role, opened))
        return result

    async def details(
        self, principal: Principal, organization: Organization | None = None
    ) -> OrganizationDetails:
        """The organization with its statistics; from `organization` when the caller's check
        has just read its entry."""
        require(principal, Permission.READ_ORGANIZATION)
        if organization is None:
            organization = await self._organizations.get_visible(principal.organization_id)
        if organization is None:
            raise OrganizationNotFound()
        documents, storage = await self._tenants.size_of(organization.namespace)
        statistics = OrganizationStatistics(
            members=await self._memberships.count_for_organization(organization.id),
            pending_invitations=await self._invitations.count_pending(organization.id),
            tenant_documents=documents,
            tenant_storage_bytes=storage,
        )
        database = self._tenants.database_of(organization)
        return OrganizationDetails(
            organization, principal.role, dict(organization.profile), statistics, database
        )

    async def update_profile(
        self, principal: Principal, changes: dict[str, Any]
    ) -> OrganizationDetails:
        require(principal, Permission.EDIT_ORGANIZATION)
        await self._organizations.require_writable(principal.organization_id)
        if changes:
            organization_id = principal.organization_id
            async with self._events.recording(
                EventType.ORGANIZATION_PROFILE_UPDATED,
                organization_id,
                Actor.of(principal),
                await self._profile_event(organization_id, changes),
                organization_event_subject(organization_id, **flatten({"profile": changes})),
            ):
                await self._organizations.update_profile(organization_id, changes)
            await self._audit.record(
                AuditAction.ORGANIZATION_PROFILE_UPDATE,
                **actor_fields(principal),
                details={"fields": sorted(changes)},
            )
        return await self.details(principal)

    async def _profile_event(
        self, organization_id: ObjectId, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """The organization and its profile as `changes` will leave them."""
        organization = await self._organizations.get(organization_id)
        data: dict[str, Any] = (
            organization_data(organization) if organization else {"id": str(organization_id)}
        )
        profile = {**await self._organizations.profile_of(organization_id), **changes}
        data["profile"] = {name: value for name, value in profile.items() if value is not None}
        data["changed"] = sorted(changes)
        return data

    async def set_status(self, principal: Principal, status: Status) -> OrganizationDetails:
        require(principal, Permission.SUSPEND_ORGANIZATION)
        suspending = status is Status.SUSPENDED
        async with self._events.recording(
            EventType.ORGANIZATION_SUSPENDED if suspending else EventType.ORGANIZATION_REACTIVATED,
            principal.organization_id,
            Actor.of(principal),
            {"status": status.value},
            organization_event_subject(principal.organization_id, status=status.value),
        ) as draft:
            changed = await self._organizations.set_status(principal.organization_id, status)
            if not changed:
                draft.skip()
        if changed:
            action = (
                AuditAction.ORGANIZATION_SUSPEND
                if status is Status.SUSPENDED
                else AuditAction.ORGANIZATION_REACTIVATE
            )
            await self._audit.record(action, **actor_fields(principal))
        return await self.details(principal)
