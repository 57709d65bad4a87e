"""Member management: roles, removal, leaving, and handing over ownership.

An organization always keeps at least one owner. The registry's `owner_count` is taken down
(conditionally, never below one) before an owner is demoted or removed, and put back if the
membership then does not change; it is put up once a member has become owner. So concurrent
requests can never leave an organization without an owner. The membership's change is the
step that makes each operation take effect; what follows it (the owner count for a new
owner, workspace seats, the contract's `admin_email`) is finished even when the database
fails it once.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from app.access.permissions import Permission, management_permission, require, require_may_grant
from app.access.principal import Principal
from app.access.roles import Role, RoleName
from app.accounts.event_subjects import membership_subject
from app.accounts.memberships import MembershipRepository
from app.accounts.models import Membership
from app.accounts.repository import AccountRepository
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.db.keyset import Slice, Window
from app.db.retry import again
from app.errors import Conflict, InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.models import Actor
from app.events.outbox import Outbox
from app.kit.times import rfc3339
from app.registry.repository import OrganizationRepository
from app.roles.service import RoleService
from app.workspaces.repository import WorkspaceMemberRepository


class MemberNotFound(NotFound):
    code = "member_not_found"
    detail = "No such member in this organization"


class LastOwner(Conflict):
    code = "last_owner"
    detail = "An organization must keep at least one owner; transfer ownership first"


class ChangedConcurrently(Conflict):
    code = "changed_concurrently"
    detail = "The membership changed while this request ran; read it again and retry"


@dataclass(frozen=True, slots=True)
class Inviter:
    """Who invited a member; `email` is None when their account no longer exists."""

    account_id: ObjectId
    email: str | None


@dataclass(frozen=True, slots=True)
class MemberView:
    account_id: ObjectId
    email: str
    role: RoleName
    joined_at: datetime
    invited_by: Inviter | None = None
    last_active_at: datetime | None = None

    @classmethod
    def of(cls, membership: Membership, emails: dict[ObjectId, str]) -> "MemberView":
        """The member as shown, with `emails` holding the member's and the inviter's."""
        inviter = membership.invited_by
        return cls(
            membership.account_id,
            emails.get(membership.account_id, ""),
            membership.role,
            membership.created_at,
            Inviter(inviter, emails.get(inviter)) if inviter is not None else None,
            membership.last_active_at,
        )


class MemberService:
    def __init__(
        self,
        memberships: MembershipRepository,
        accounts: AccountRepository,
        organizations: OrganizationRepository,
        audit: AuditTrail,
        workspace_members: WorkspaceMemberRepository,
        events: Outbox,
        roles: RoleService,
    ) -> None:
        self._roles = roles
        self._memberships = memberships
        self._accounts = accounts
        self._organizations = organizations
        self._audit = audit
        self._workspace_members = workspace_members
        self._events = events

    async def list(
        self, principal: Principal, role: RoleName | None, window: Window
    ) -> Slice[MemberView]:
        require(principal, Permission.READ_ORGANIZATION)
        if role is not None:
            await self._roles.existing(principal.organization_id, role, ("query", "role"))
        page = await self._memberships.page_for_organization(
            principal.organization_id, role, window
        )
        emails = await self._emails_of(page.items)
        return page.with_items([MemberView.of(m, emails) for m in page.items])

    async def get(self, principal: Principal, account_id: ObjectId) -> MemberView:
        require(principal, Permission.READ_ORGANIZATION)
        return await self._view(account_id, principal.organization_id)

    async def change_role(
        self, principal: Principal, account_id: ObjectId, role: RoleName
    ) -> MemberView:
        membership = await self._member(principal, account_id)
        organization_id = principal.organization_id
        held = await self._roles.held(organization_id, membership.role)
        require(principal, management_permission(held))
        if membership.role != role:
            require_may_grant(principal, await self._roles.assignable(organization_id, role))
            await self._organizations.require_writable(organization_id)
            data = await self._member_data(membership, role)
            data["previous_role"] = membership.role
            async with self._events.recording(
                EventType.MEMBER_ROLE_CHANGED,
                organization_id,
                Actor.of(principal),
                data,
                membership_subject(account_id, organization_id, role=role),
            ):
                await self._set_role(membership, role)
            await self._audit.record(
                AuditAction.MEMBER_ROLE_CHANGE,
                **actor_fields(principal),
                target=str(account_id),
                details={"from": membership.role, "to": role},
            )
        return await again(lambda: self._view(account_id, principal.organization_id))

    async def remove(self, principal: Principal, account_id: ObjectId) -> None:
        if account_id == principal.account_id:
            await self.leave(principal)
            return
        membership = await self._member(principal, account_id)
        held = await self._roles.held(principal.organization_id, membership.role)
        require(principal, management_permission(held))
        await self._organizations.require_writable(principal.organization_id)
        await self._dropping(EventType.MEMBER_REMOVED, principal, membership)
        await self._audit.record(
            AuditAction.MEMBER_REMOVE,
            **actor_fields(principal),
            target=str(account_id),
            details={"role": membership.role},
        )

    async def leave(self, principal: Principal) -> None:
        """Anyone may leave, even a suspended organization; the last owner may not."""
        membership = await self._member(principal, principal.account_id)
        await self._dropping(EventType.MEMBER_LEFT, principal, membership)
        await self._audit.record(AuditAction.MEMBER_LEAVE, **actor_fields(principal))

    async def transfer_ownership(self, principal: Principal, account_id: ObjectId) -> None:
        """Make another member owner and the caller admin. There are briefly two owners,
        never none."""
        require(principal, Permission.DELETE_ORGANIZATION)
        if account_id == principal.account_id:
            raise InvalidInput(("body", "account_id"), "name another member, not yourself")
        await self._organizations.require_writable(principal.organization_id)
        target = await self._member(principal, account_id)
        caller = await self._member(principal, principal.account_id)
        organization_id = principal.organization_id
        async with self._events.recording(
            EventType.MEMBER_OWNERSHIP_TRANSFERRED,
            organization_id,
            Actor.of(principal),
            {
                "new_owner": await self._member_data(target, Role.OWNER),
                # An owner steps down to admin; a custom role allowed to transfer keeps its own.
                "previous_owner": await self._member_data(
                    caller, Role.ADMIN if caller.role == Role.OWNER else caller.role
                ),
            },
            membership_subject(account_id, organization_id, role=Role.OWNER),
        ) as draft:
            if target.role != Role.OWNER:
                await self._set_role(target, Role.OWNER)
            elif caller.role != Role.OWNER:
                draft.skip()
            # The new owner is in: the caller steps down however the database answers now.
            await again(lambda: self._organizations.set_admin(organization_id, account_id))
            await again(lambda: self._step_down(principal))
        await self._audit.record(
            AuditAction.OWNERSHIP_TRANSFER, **actor_fields(principal), target=str(account_id)
        )

    async def _dropping(
        self, event_type: EventType, principal: Principal, membership: Membership
    ) -> None:
        async with self._events.recording(
            event_type,
            membership.organization_id,
            Actor.of(principal),
            await self._member_data(membership, membership.role),
            membership_subject(membership.account_id, membership.organization_id, present=False),
        ):
            await self._drop(membership)

    async def _member_data(self, membership: Membership, role: RoleName) -> dict[str, object]:
        """The member as the API shows it, with `role`."""
        return {
            "account_id": str(membership.account_id),
            "email": await self._accounts.email_of(membership.account_id) or "",
            "role": role,
            "joined_at": rfc3339(membership.created_at),
        }

    async def _step_down(self, principal: Principal) -> None:
        """The transferring owner becomes admin (safe to repeat)."""
        caller = await self._member(principal, principal.account_id)
        if caller.role == Role.OWNER:
            await self._set_role(caller, Role.ADMIN)

    async def _set_role(self, membership: Membership, role: RoleName) -> None:
        organization_id = membership.organization_id
        if membership.role == Role.OWNER:
            async with self._owner_seat_given_up(organization_id):
                changed = await self._memberships.change_role(membership, role)
                if not changed:
                    raise ChangedConcurrently()
            await again(lambda: self._reassign_admin(membership))
            return
        if not await self._memberships.change_role(membership, role):
            raise ChangedConcurrently()
        if role == Role.OWNER:
            # Counted only once in place: a count below the owners refuses a demotion too
            # many, never allows one.
            await again(lambda: self._organizations.add_owner_seat(organization_id))

    async def _drop(self, membership: Membership) -> None:
        organization_id = membership.organization_id
        if membership.role == Role.OWNER:
            async with self._owner_seat_given_up(organization_id):
                if not await self._memberships.remove(membership):
                    raise ChangedConcurrently()
        elif not await self._memberships.remove(membership):
            raise ChangedConcurrently()
        # The membership is gone: its workspace seats and the contract's admin follow.
        await again(
            lambda: self._workspace_members.remove_account(organization_id, membership.account_id)
        )
        if membership.role == Role.OWNER:
            await again(lambda: self._reassign_admin(membership))

    @asynccontextmanager
    async def _owner_seat_given_up(self, organization_id: ObjectId) -> AsyncIterator[None]:
        """One owner seat fewer while the block demotes or removes an owner; given back when
        the block fails."""
        if not await self._organizations.give_up_owner_seat(organization_id):
            raise LastOwner()
        try:
            yield
        except BaseException:
            await self._organizations.add_owner_seat(organization_id)
            raise

    async def _reassign_admin(self, former_owner: Membership) -> None:
        """Keep the contract's `admin_email` naming an owner once this one is not."""
        organization = await self._organizations.get(former_owner.organization_id)
        if organization is None or organization.admin_id != former_owner.account_id:
            return
        successor = await self._memberships.another_owner(
            former_owner.organization_id, former_owner.account_id
        )
        if successor is not None:
            await self._organizations.set_admin(former_owner.organization_id, successor)

    async def _member(self, principal: Principal, account_id: ObjectId) -> Membership:
        membership = await self._memberships.get(account_id, principal.organization_id)
        if membership is None:
            raise MemberNotFound()
        return membership

    async def _view(self, account_id: ObjectId, organization_id: ObjectId) -> MemberView:
        membership = await self._memberships.get(account_id, organization_id)
        if membership is None:
            raise MemberNotFound()
        return MemberView.of(membership, await self._emails_of([membership]))

    async def _emails_of(self, memberships: Sequence[Membership]) -> dict[ObjectId, str]:
        """The members' emails and their inviters', in one read."""
        ids = {m.account_id for m in memberships}
        ids.update(m.invited_by for m in memberships if m.invited_by is not None)
        return await self._accounts.emails_of(sorted(ids))
