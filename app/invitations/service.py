"""Inviting people, and their side: accepting."""

import logging
import secrets
from datetime import UTC, datetime, timedelta

import anyio
from bson import ObjectId
from pymongo.errors import PyMongoError

from app.access.passwords import PasswordHasher
from app.access.permissions import (
    Permission,
    management_permission,
    require,
    require_may_grant,
)
from app.access.principal import Principal
from app.access.roles import Role, RoleName
from app.accounts.memberships import AlreadyMember, MembershipRepository
from app.accounts.models import Account, email_key
from app.accounts.repository import AccountRepository, EmailTaken
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.config import Settings
from app.db.keyset import Slice, Window
from app.db.retry import again
from app.errors import AppError, Conflict, Forbidden, InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.models import Actor
from app.events.outbox import Outbox
from app.invitations.delivery import EmailSender
from app.invitations.emails import invitation_email
from app.invitations.event_subjects import invitation_data, invitation_subject, link_subject
from app.invitations.models import Invitation, InvitationStatus, token_digest
from app.invitations.repository import AlreadyInvited, InvitationRepository, RenewContended
from app.invitations.seats import Seats
from app.kit.request_context import current_client_address
from app.registry.errors import OrganizationSuspended
from app.registry.models import Organization, Status
from app.registry.repository import OrganizationRepository
from app.roles.service import RoleService
from app.sessions.service import LoginResult, SessionService
from app.workspaces.access import WorkspaceAccess
from app.workspaces.models import WorkspaceRole

logger = logging.getLogger(__name__)


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    detail = "Invitation not found"


class InvitationGone(AppError):
    code = "invitation_gone"
    status_code = 410
    detail = "This invitation has expired, was revoked, or has already been used"


class InvitationReplaced(InvitationGone):
    code = "invitation_replaced"
    detail = "This invitation link was replaced by a newer one: use the link of the latest email"
    title = "The invitation was sent again with a new link; this one no longer works"


class ResendInProgress(Conflict):
    code = "invitation_resend_in_progress"
    detail = "This invitation is being sent again by another request; try again"


# Why a link that exists no longer works, in the words of its 410.
_GONE_BECAUSE = {
    InvitationStatus.ACCEPTED: "This invitation has already been used",
    InvitationStatus.REVOKED: "This invitation was revoked",
    InvitationStatus.EXPIRED: "This invitation has expired: ask for a new one",
}


class AlreadyAMember(Conflict):
    code = "already_a_member"
    detail = "This person is already a member of the organization"


class AlreadyPending(Conflict):
    code = "invitation_already_pending"
    detail = "This person already has a pending invitation; resend it instead"


class InvitationForSomeoneElse(Forbidden):
    code = "invitation_for_another_email"
    detail = "This invitation was sent to another email address"


class SignInToAccept(Conflict):
    code = "sign_in_to_accept"
    detail = "An account with this email exists: sign in and accept, or give its password"


class InvitationService:
    def __init__(
        self,
        invitations: InvitationRepository,
        memberships: MembershipRepository,
        accounts: AccountRepository,
        organizations: OrganizationRepository,
        hasher: PasswordHasher,
        auth: SessionService,
        sender: EmailSender,
        settings: Settings,
        audit: AuditTrail,
        workspaces: WorkspaceAccess,
        seats: Seats,
        events: Outbox,
        roles: RoleService,
    ) -> None:
        self._roles = roles
        self._invitations = invitations
        self._memberships = memberships
        self._accounts = accounts
        self._organizations = organizations
        self._hasher = hasher
        self._auth = auth
        self._sender = sender
        self._settings = settings
        self._audit = audit
        self._workspaces = workspaces
        self._seats = seats
        self._events = events

    async def invite(
        self,
        principal: Principal,
        email: str,
        role: RoleName,
        organization: Organization | None = None,
    ) -> tuple[Invitation, bool]:
        """Create and send an invitation; the flag says whether the email went out.
        `organization` is the entry as the caller's check has just read it, if it has."""
        if role == Role.OWNER:
            raise InvalidInput(
                ("body", "role"), "owners are made by transferring ownership, not by invitation"
            )
        organization_id = principal.organization_id
        require_may_grant(principal, await self._roles.assignable(organization_id, role))
        if organization is None:
            await self._organizations.require_writable(organization_id)
        elif organization.status is Status.SUSPENDED:
            raise OrganizationSuspended()
        existing = await self._accounts.find_by_email(email)
        if existing and await self._memberships.get(existing.id, organization_id):
            raise AlreadyAMember()
        token = secrets.token_urlsafe(32)
        async with self._seats.taking_one(organization_id):
            planned = {"email": email, "role": role, "status": "pending"}
            try:
                async with self._events.recording(
                    EventType.INVITATION_CREATED,
                    organization_id,
                    Actor.of(principal),
                    planned,
                    link_subject(token_digest(token)),
                ) as draft:
                    invitation = await self._invitations.create(
                        organization_id, email, role, principal.account_id, token, self._expiry()
                    )
                    draft.data = invitation_data(invitation)
            except AlreadyInvited:
                raise AlreadyPending() from None
        await self._audit.record(
            AuditAction.INVITATION_CREATE,
            **actor_fields(principal),
            target=invitation.email,
            details={"role": role, "invitation_id": str(invitation.id)},
        )
        name = organization.name if organization else None
        return invitation, await self._deliver(invitation, token, principal.email, name)

    async def get(self, principal: Principal, invitation_id: ObjectId) -> Invitation:
        """One of the organization's invitations, whatever its status."""
        require(principal, Permission.MANAGE_MEMBERS)
        invitation = await self._invitations.get(principal.organization_id, invitation_id)
        if invitation is None:
            raise InvitationNotFound()
        return invitation

    async def list_pending(self, principal: Principal, window: Window) -> Slice[Invitation]:
        require(principal, Permission.MANAGE_MEMBERS)
        return await self._invitations.page_pending(principal.organization_id, window)

    async def resend(
        self, principal: Principal, invitation_id: ObjectId
    ) -> tuple[Invitation, bool]:
        invitation = await self._pending(principal, invitation_id)
        await self._organizations.require_writable(principal.organization_id)
        token = secrets.token_urlsafe(32)
        try:
            async with self._events.recording(
                EventType.INVITATION_RESENT,
                principal.organization_id,
                Actor.of(principal),
                invitation_data(invitation),
                link_subject(token_digest(token)),
            ) as draft:
                renewed = await self._invitations.renew(invitation, token, self._expiry())
                if renewed is None:
                    raise InvitationGone()
                draft.data = invitation_data(renewed)
        except RenewContended:
            raise ResendInProgress() from None
        await self._audit.record(
            AuditAction.INVITATION_RESEND, **actor_fields(principal), target=renewed.email
        )
        return renewed, await self._deliver(renewed, token, principal.email)

    async def revoke(self, principal: Principal, invitation_id: ObjectId) -> None:
        invitation = await self._pending(principal, invitation_id)
        async with self._events.recording(
            EventType.INVITATION_REVOKED,
            principal.organization_id,
            Actor.of(principal),
            {**invitation_data(invitation), "status": InvitationStatus.REVOKED.value},
            invitation_subject(invitation, status=InvitationStatus.REVOKED.value),
        ):
            if not await self._invitations.close(invitation, InvitationStatus.REVOKED):
                raise InvitationGone()
        await self._audit.record(
            AuditAction.INVITATION_REVOKE, **actor_fields(principal), target=invitation.email
        )

    async def accept(
        self, token: str, principal: Principal | None, password: str | None
    ) -> LoginResult:
        """Join the organization: as the signed-in account whose email was invited, or as a
        new account created with `password`. Returns a token for the organization."""
        invitation = await self._open_by_token(token)
        await self._organizations.require_writable(invitation.organization_id)
        account_id, new_account = await self._joining_account(invitation, principal, password)
        accepted = InvitationStatus.ACCEPTED.value
        async with self._events.recording(
            EventType.INVITATION_ACCEPTED,
            invitation.organization_id,
            Actor.account(account_id, invitation.email),
            {
                **invitation_data(invitation),
                "status": accepted,
                "member": {
                    "account_id": str(account_id),
                    "email": invitation.email,
                    "role": invitation.role,
                },
            },
            invitation_subject(invitation, status=accepted),
        ):
            if not await self._invitations.close(invitation, InvitationStatus.ACCEPTED):
                raise InvitationGone()  # accepted by a concurrent request a moment ago
            await self._join(invitation, account_id, new_account)
        await self._audit.record(
            AuditAction.INVITATION_ACCEPT,
            organization_id=invitation.organization_id,
            actor_id=account_id,
            actor_email=invitation.email,
            details={"role": invitation.role, "new_account": new_account is not None},
        )
        if new_account is None:
            await self._note_address_proven(account_id, invitation.email)
        # The person has joined: a token for them, however the database answers now.
        return await again(lambda: self._auth.enter(account_id, invitation.organization_id))

    async def _note_address_proven(self, account_id: ObjectId, email: str) -> None:
        """Following the emailed link proves the address, as a verification link would. The
        person has joined whatever this write does: a failure leaves the address unverified."""
        try:
            await again(
                lambda: self._accounts.mark_email_verified(account_id, email, datetime.now(UTC))
            )
        except PyMongoError:
            logger.warning("could not record that account %s verified its email", account_id)

    async def _join(
        self, invitation: Invitation, account_id: ObjectId, new_account: Account | None
    ) -> None:
        """Create the account (if new), the membership and the default workspace seat, for an
        invitation already closed as accepted; when a step fails, the steps before it are
        undone and the invitation reopened, so the person holds one seat or none."""
        organization_id = invitation.organization_id
        account_created = membership_created = False
        try:
            if new_account is not None:
                try:
                    await self._accounts.insert(new_account)
                except EmailTaken:
                    raise SignInToAccept() from None
                account_created = True
            try:
                await self._memberships.add(
                    account_id, organization_id, invitation.role, invited_by=invitation.invited_by
                )
            except AlreadyMember:
                raise AlreadyAMember() from None
            membership_created = True
            await self._join_default_workspace(account_id, invitation)
        except BaseException:
            with anyio.CancelScope(shield=True):
                if membership_created:
                    await again(
                        lambda: self._workspaces.members.remove_account(organization_id, account_id)
                    )
                    await again(
                        lambda: self._memberships.remove_account_from(account_id, organization_id)
                    )
                if account_created:
                    await again(lambda: self._accounts.delete(account_id))
                await again(lambda: self._invitations.reopen(invitation))
            raise

    async def _open_by_token(self, token: str) -> Invitation:
        """The pending invitation `token` is the current link of; 410 for a link that was
        replaced, used, revoked or expired, 404 for one that never existed (or was purged)."""
        invitation = await self._invitations.find_by_token(token)
        if invitation is None:
            raise InvitationNotFound()
        if not await self._organizations.is_visible(invitation.organization_id):
            raise InvitationGone()
        if invitation.token_digest != token_digest(token):
            raise InvitationReplaced()
        status = invitation.effective_status
        if status is not InvitationStatus.PENDING:
            raise InvitationGone(_GONE_BECAUSE.get(status))
        return invitation

    async def _join_default_workspace(self, account_id: ObjectId, invitation: Invitation) -> None:
        """New members start in the default workspace: editors, or viewers when their
        organization role only reads. Owners and admins (and custom roles granting
        `workspaces.manage`) see every workspace anyway."""
        held = await self._roles.held(invitation.organization_id, invitation.role)
        if Permission.MANAGE_WORKSPACES in held.permissions:
            return
        default = await self._workspaces.workspaces.ensure_default(invitation.organization_id)
        writes = Permission.WRITE_TENANT_DOCUMENTS in held.permissions
        role = WorkspaceRole.EDITOR if writes else WorkspaceRole.VIEWER
        await self._workspaces.members.put(invitation.organization_id, default.id, account_id, role)

    async def _joining_account(
        self, invitation: Invitation, principal: Principal | None, password: str | None
    ) -> tuple[ObjectId, Account | None]:
        """Who joins, and the account to create for them (None: an existing account, the
        signed-in caller's or one whose password was given)."""
        if principal is not None:
            if email_key(principal.email) != email_key(invitation.email):
                raise InvitationForSomeoneElse()
            return principal.account_id, None
        existing = await self._accounts.find_by_email(invitation.email)
        if existing is not None:
            # Someone who left every organization has no token to sign in with: their
            # password proves the account is theirs, as it does when signing up again.
            if password is None or not await self._auth.verify_existing(
                existing, password, current_client_address() or "unknown"
            ):
                raise SignInToAccept()
            return existing.id, None
        if password is None:
            raise InvalidInput(
                ("body", "password"), "choose a password to create your account, or sign in"
            )
        created_at = datetime.now(UTC)
        # The invitation reached this address: that proves it as a verification link would.
        account = Account(
            id=ObjectId(),
            email=invitation.email,
            password_hash=await self._hasher.hash(password),
            organization_id=invitation.organization_id,
            created_at=created_at,
            email_verified_at=created_at,
        )
        return account.id, account

    async def _pending(self, principal: Principal, invitation_id: ObjectId) -> Invitation:
        invitation = await self._invitations.get(principal.organization_id, invitation_id)
        if invitation is None:
            raise InvitationNotFound()
        held = await self._roles.held(principal.organization_id, invitation.role)
        require(principal, management_permission(held))
        if invitation.status is not InvitationStatus.PENDING:
            raise InvitationGone(_GONE_BECAUSE.get(invitation.status))
        return invitation

    async def _deliver(
        self, invitation: Invitation, token: str, inviter: str, name: str | None = None
    ) -> bool:
        """Send the invitation's email (naming the organization `name`, read here if not
        given); whether it went out."""
        if name is None:
            organization = await self._organizations.get(invitation.organization_id)
            name = organization.name if organization else "an organization"
        email = invitation_email(
            organization=name,
            inviter=inviter,
            role=invitation.role,
            link=self._settings.invitation_url_template.format(token=token),
            expires_at=invitation.expires_at,
        )
        try:
            await self._sender.send(invitation.email, email.subject, email.text, email.html)
        except Exception:
            logger.exception("could not send the invitation email for %s", invitation.id)
            return False
        return True

    def _expiry(self) -> datetime:
        return datetime.now(UTC) + timedelta(days=self._settings.invitation_ttl_days)
