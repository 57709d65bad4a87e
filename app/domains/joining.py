"""Joining an organization by a verified mail domain.

A signed-in account whose email is verified, at a domain an organization has verified with
the join policy `suggest` or `auto`, sees that organization among the joinable ones. With
`auto` it joins at once with the domain's default role; with `suggest` it asks, and owners
and admins approve or deny. Either way a seat is taken as an invitation takes one: under
the organization's invitation lease, after counting members and pending invitations against
the plan's limit, so concurrent joins and invitations never exceed it.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import anyio
from bson import ObjectId

from app.access.permissions import Permission, builtin_grant, management_permission, require
from app.access.principal import Principal
from app.access.roles import Role
from app.accounts.event_subjects import membership_subject
from app.accounts.memberships import AlreadyMember, MembershipRepository
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.db.keyset import Slice, Window
from app.db.retry import again
from app.domains.event_subjects import domain_data, join_request_data, join_request_subject
from app.domains.models import Domain, JoinPolicy, JoinRequest, JoinRequestStatus
from app.domains.names import domain_of_email
from app.domains.repository import DomainRepository, JoinRequestRepository, RequestAlreadyPending
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.models import Actor
from app.events.outbox import Outbox
from app.invitations.seats import Seats
from app.invitations.service import AlreadyAMember
from app.registry.models import Organization
from app.registry.repository import OrganizationRepository
from app.workspaces.access import WorkspaceAccess
from app.workspaces.models import WorkspaceRole


class EmailNotVerified(Forbidden):
    code = "email_not_verified"
    detail = (
        "Verify your email address first (POST /api/v1/auth/email-verification): joining by "
        "domain trusts only verified addresses"
    )


class NotJoinable(Forbidden):
    code = "organization_not_joinable"
    detail = "This organization is not open to accounts at your email's domain"


class JoinRequestPending(Conflict):
    code = "join_request_pending"
    detail = "You have asked to join this organization already; an owner or admin will decide"


class JoinRequestNotFound(NotFound):
    code = "join_request_not_found"
    detail = "Join request not found"


class JoinRequestDecided(Conflict):
    code = "join_request_decided"
    detail = "This join request has been approved or denied already"


@dataclass(frozen=True, slots=True)
class Joinable:
    organization: Organization
    domain: Domain


@dataclass(frozen=True, slots=True)
class JoinOutcome:
    organization_id: ObjectId
    joined: bool  # True: a member now; False: a request waits for a decision
    role: Role | None
    request: JoinRequest | None


class JoinService:
    def __init__(
        self,
        domains: DomainRepository,
        requests: JoinRequestRepository,
        accounts: AccountRepository,
        memberships: MembershipRepository,
        organizations: OrganizationRepository,
        seats: Seats,
        workspaces: WorkspaceAccess,
        events: Outbox,
        audit: AuditTrail,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._domains = domains
        self._requests = requests
        self._accounts = accounts
        self._memberships = memberships
        self._organizations = organizations
        self._seats = seats
        self._workspaces = workspaces
        self._events = events
        self._audit = audit
        self._clock = clock

    async def joinable(self, principal: Principal) -> list[Joinable]:
        """The organizations the caller may join or ask to join (none it is a member of)."""
        account = await self._verified_account(principal)
        domain = await self._open_domain(account)
        if domain is None:
            return []
        if await self._memberships.get(account.id, domain.organization_id) is not None:
            return []
        organization = await self._organizations.get_visible(domain.organization_id)
        return [Joinable(organization, domain)] if organization else []

    async def join(self, principal: Principal, organization_id: ObjectId) -> JoinOutcome:
        account = await self._verified_account(principal)
        domain = await self._open_domain(account)
        if domain is None or domain.organization_id != organization_id:
            raise NotJoinable()
        if not await self._organizations.is_visible(organization_id):
            raise NotJoinable()
        if await self._memberships.get(account.id, organization_id) is not None:
            raise AlreadyAMember()
        await self._organizations.require_writable(organization_id)
        if domain.join_policy is JoinPolicy.AUTO:
            await self._join_at_once(account, domain)
            return JoinOutcome(organization_id, True, domain.default_role, None)
        return JoinOutcome(organization_id, False, None, await self._ask(account, domain))

    async def list_pending(self, principal: Principal, window: Window) -> Slice[JoinRequest]:
        require(principal, Permission.MANAGE_MEMBERS)
        return await self._requests.page_pending(principal.organization_id, window)

    async def get(self, principal: Principal, request_id: ObjectId) -> JoinRequest:
        require(principal, Permission.MANAGE_MEMBERS)
        request = await self._requests.get(principal.organization_id, request_id)
        if request is None:
            raise JoinRequestNotFound()
        return request

    async def approve(
        self, principal: Principal, request_id: ObjectId, role: Role | None
    ) -> JoinRequest:
        """Make the person a member with `role`, or the domain's default role."""
        request = await self._pending(principal, request_id)
        if role is None:
            domain = await self._domains.verified(request.domain)
            ours = domain is not None and domain.organization_id == request.organization_id
            role = domain.default_role if domain is not None and ours else Role.MEMBER
        if role is Role.OWNER:
            raise InvalidInput(("body", "role"), "owners are made by transferring ownership")
        require(principal, management_permission(builtin_grant(role)))
        organization_id = principal.organization_id
        await self._organizations.require_writable(organization_id)
        approved = replace(
            request,
            status=JoinRequestStatus.APPROVED,
            decided_by=principal.account_id,
            role=role,
        )
        async with (
            self._seats.taking_one(organization_id),
            self._events.recording(
                EventType.JOIN_REQUEST_APPROVED,
                organization_id,
                Actor.of(principal),
                join_request_data(approved),
                join_request_subject(request.id, status=JoinRequestStatus.APPROVED.value),
            ),
        ):
            if not await self._requests.decide(
                request, JoinRequestStatus.APPROVED, principal.account_id, self._clock(), role
            ):
                raise JoinRequestDecided()
            try:
                await self._make_member(request.account_id, organization_id, role)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await again(lambda: self._requests.reopen(request))
                raise
        await self._audit.record(
            AuditAction.JOIN_REQUEST_APPROVE,
            **actor_fields(principal),
            target=request.email,
            details={"role": role.value, "request_id": str(request.id)},
        )
        return await self.get(principal, request_id)

    async def deny(self, principal: Principal, request_id: ObjectId) -> JoinRequest:
        request = await self._pending(principal, request_id)
        denied = replace(request, status=JoinRequestStatus.DENIED)
        async with self._events.recording(
            EventType.JOIN_REQUEST_DENIED,
            principal.organization_id,
            Actor.of(principal),
            join_request_data(denied),
            join_request_subject(request.id, status=JoinRequestStatus.DENIED.value),
        ):
            if not await self._requests.decide(
                request, JoinRequestStatus.DENIED, principal.account_id, self._clock(), None
            ):
                raise JoinRequestDecided()
        await self._audit.record(
            AuditAction.JOIN_REQUEST_DENY,
            **actor_fields(principal),
            target=request.email,
            details={"request_id": str(request.id)},
        )
        return await self.get(principal, request_id)

    async def _join_at_once(self, account: Account, domain: Domain) -> None:
        organization_id = domain.organization_id
        role = domain.default_role
        member = {"account_id": str(account.id), "email": account.email, "role": role.value}
        async with (
            self._seats.taking_one(organization_id),
            self._events.recording(
                EventType.MEMBER_JOINED,
                organization_id,
                Actor.account(account.id, account.email),
                {"member": member, "domain": domain_data(domain)},
                membership_subject(account.id, organization_id, role=role.value),
            ),
        ):
            await self._make_member(account.id, organization_id, role)
        await self._audit.record(
            AuditAction.MEMBER_JOIN,
            organization_id=organization_id,
            actor_id=account.id,
            actor_email=account.email,
            target=account.email,
            details={"role": role.value, "domain": domain.domain},
        )

    async def _ask(self, account: Account, domain: Domain) -> JoinRequest:
        now = self._clock()
        request = JoinRequest(
            id=ObjectId(),
            organization_id=domain.organization_id,
            account_id=account.id,
            email=account.email,
            domain=domain.domain,
            status=JoinRequestStatus.PENDING,
            created_at=now.replace(microsecond=now.microsecond // 1000 * 1000),
        )
        try:
            async with self._events.recording(
                EventType.JOIN_REQUEST_CREATED,
                domain.organization_id,
                Actor.account(account.id, account.email),
                join_request_data(request),
                join_request_subject(request.id),
            ):
                await self._requests.insert(request)
        except RequestAlreadyPending:
            raise JoinRequestPending() from None
        await self._audit.record(
            AuditAction.JOIN_REQUEST_CREATE,
            organization_id=domain.organization_id,
            actor_id=account.id,
            actor_email=account.email,
            target=account.email,
            details={"request_id": str(request.id), "domain": domain.domain},
        )
        return request

    async def _make_member(
        self, account_id: ObjectId, organization_id: ObjectId, role: Role
    ) -> None:
        """The membership and its default workspace seat, or neither."""
        try:
            await self._memberships.add(account_id, organization_id, role)
        except AlreadyMember:
            raise AlreadyAMember() from None
        try:
            # Like invited members: editors, or viewers when the role only reads; owners
            # and admins see every workspace anyway.
            if role not in (Role.OWNER, Role.ADMIN):
                default = await self._workspaces.workspaces.ensure_default(organization_id)
                seat = WorkspaceRole.EDITOR if role is Role.MEMBER else WorkspaceRole.VIEWER
                await self._workspaces.members.put(organization_id, default.id, account_id, seat)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await again(
                    lambda: self._workspaces.members.remove_account(organization_id, account_id)
                )
                await again(
                    lambda: self._memberships.remove_account_from(account_id, organization_id)
                )
            raise

    async def _verified_account(self, principal: Principal) -> Account:
        account = await self._accounts.get(principal.account_id)
        if account is None or not account.email_verified:
            raise EmailNotVerified()
        return account

    async def _open_domain(self, account: Account) -> Domain | None:
        """The verified domain of the account's email, if its policy lets accounts join."""
        name = domain_of_email(account.email)
        if name is None:
            return None
        domain = await self._domains.verified(name)
        return domain if domain is not None and domain.open_to_joiners else None

    async def _pending(self, principal: Principal, request_id: ObjectId) -> JoinRequest:
        request = await self.get(principal, request_id)
        if request.status is not JoinRequestStatus.PENDING:
            raise JoinRequestDecided()
        return request
