"""Logging in and out, switching organization, and turning a bearer token back into a caller.

A token acts for one account in one organization, with the role the account has there. It
stops working when the account's token version moves (password change, log out everywhere),
when the membership's version moves (role change) or disappears (removal), or when the
organization goes.
"""

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from bson import ObjectId
from pymongo.errors import PyMongoError

from app.access.passwords import PasswordHasher
from app.access.permissions import Grant, grant_of
from app.access.principal import Principal
from app.access.tokens import IssuedToken, TokenClaims, TokenCodec
from app.accounts.memberships import MembershipRepository
from app.accounts.models import Account, Membership, email_key
from app.accounts.repository import AccountRepository, SigningIn
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.db.store import Document
from app.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    NotAuthenticated,
    TokenRevoked,
    TooManyAttempts,
)
from app.observability.metrics import Metrics
from app.registry.models import VISIBLE, LifecycleState, Organization
from app.registry.repository import OrganizationRepository
from app.roles.repository import RoleRepository
from app.sessions.caller import Caller
from app.sessions.revocation import RevokedTokens
from app.sessions.throttle import Attempt, LoginThrottle, trust_key
from app.workspaces.access import WorkspaceAccess
from app.workspaces.models import workspace_member_id

logger = logging.getLogger(__name__)

# A membership's `last_active_at` is rewritten once it is older than this: a member's
# requests cost one write per interval, not one each.
ACTIVITY_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: IssuedToken
    account_id: ObjectId
    organization_id: ObjectId
    role: str


class NotAMember(Forbidden):
    code = "not_a_member"
    detail = "Your account is not a member of that organization"


class AccountWithoutOrganization(InvalidCredentials):
    """Told only once the password is verified: who knows it may learn the account is idle."""

    code = "account_without_organization"
    detail = (
        "This account belongs to no organization any more: accept an invitation, or sign up "
        "to create an organization"
    )
    title = "The email and password are right, but the account belongs to no organization"


class WrongCurrentPassword(InvalidCredentials):
    code = "wrong_current_password"
    detail = "The current password is wrong"


class WorkspaceArchived(Conflict):
    code = "workspace_archived"
    detail = "The workspace is archived; unarchive it to work in it"


class SessionService:
    def __init__(
        self,
        accounts: AccountRepository,
        memberships: MembershipRepository,
        organizations: OrganizationRepository,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        throttle: LoginThrottle,
        revoked: RevokedTokens,
        metrics: Metrics,
        audit: AuditTrail,
        workspaces: WorkspaceAccess,
        roles: RoleRepository,
    ) -> None:
        self._accounts = accounts
        self._roles = roles
        self._memberships = memberships
        self._organizations = organizations
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._revoked = revoked
        self._metrics = metrics
        self._audit = audit
        self._workspaces = workspaces

    async def login(
        self,
        email: str,
        password: str,
        address: str,
        organization_id: ObjectId | None = None,
    ) -> LoginResult:
        """Check the password and issue a token for `organization_id`, or else the account's
        home organization, or else its earliest membership."""
        found = await self._accounts.signing_in(email, trust_key(email, address))
        account = found.account if found else None
        trusted = found is not None and self._throttle.trusted(found.trust)
        async with await self._reserve(email, address, trusted) as attempt:
            # An unknown email costs one bcrypt check too, and fails with the same error.
            valid = await self._hasher.verify(password, account.password_hash if account else None)
            if found is None or account is None or not valid:
                attempt.failed()
                await self._audit.record(
                    AuditAction.LOGIN_FAILURE,
                    organization_id=account.organization_id if account else None,
                    actor_id=account.id if account else None,
                    target=email,
                )
                self._refuse()
        await self._throttle.record_success(email, address, found.trust)
        membership = _membership_to_enter(found, organization_id)
        if membership is None:
            raise AccountWithoutOrganization()
        await self._audit.record(
            AuditAction.LOGIN_SUCCESS,
            organization_id=membership.organization_id,
            actor_id=account.id,
            actor_email=account.email,
        )
        return self._issue(account, membership)

    async def switch(
        self,
        principal: Principal,
        organization_id: ObjectId,
        workspace_id: ObjectId | None = None,
    ) -> LoginResult:
        """A token for another organization of the caller's, or another workspace, which the
        caller must be allowed into."""
        account = await self._accounts.get(principal.account_id)
        membership = await self._memberships.get(principal.account_id, organization_id)
        if (
            account is None
            or membership is None
            or not await self._organizations.is_visible(organization_id)
        ):
            raise NotAMember()
        if workspace_id is not None:
            held = await self._roles_held(organization_id, membership.role)
            there = replace(
                principal.holding(held), organization_id=organization_id, workspace_id=None
            )
            context = await self._workspaces.context(there, workspace_id)
            if context.workspace.archived:
                raise WorkspaceArchived()
        return self._issue(account, membership, workspace_id)

    async def _roles_held(self, organization_id: ObjectId, name: str) -> Grant:
        custom = await self._roles.get(organization_id, name)
        return custom.grant if custom else grant_of(name)

    async def may_switch_to(self, principal: Principal, organization_id: ObjectId) -> bool:
        """Whether the caller's account could get a token for `organization_id`."""
        membership = await self._memberships.get(principal.account_id, organization_id)
        return membership is not None and await self._organizations.is_visible(organization_id)

    async def enter(self, account_id: ObjectId, organization_id: ObjectId) -> LoginResult:
        """A token for an account that has just joined the organization."""
        account = await self._accounts.get(account_id)
        membership = await self._memberships.get(account_id, organization_id)
        if account is None or membership is None:
            raise NotAMember()
        return self._issue(account, membership)

    def read_token(self, token: str) -> TokenClaims:
        """What a token says, once its signature and expiry hold; nothing is read."""
        return self._tokens.decode(token)

    async def authenticate(self, token: str) -> Caller:
        return await self.check(self.read_token(token))

    async def check(self, claims: TokenClaims) -> Caller:
        """The caller a token stands for, while the token and everything it names is live:
        the account's token version, the membership's version, the token not revoked, the
        organization visible. One round trip (`MembershipRepository.standing`)."""
        workspace_id = claims.workspace_id or claims.organization_id  # defaults bear its id
        standing = await self._memberships.standing(
            claims.account_id,
            claims.organization_id,
            claims.token_id,
            workspace_id,
            workspace_member_id(workspace_id, claims.account_id),
        )
        if standing is None or standing.account is None:
            raise NotAuthenticated()
        account = Account.from_document(standing.account)
        membership = standing.membership
        if (
            account.token_version != claims.version
            or membership.version != claims.membership_version
        ):
            raise NotAuthenticated()
        if standing.revoked:
            raise TokenRevoked()
        organization = (
            Organization.from_document(standing.organization) if standing.organization else None
        )
        if organization is None or not organization.visible:
            raise NotAuthenticated()
        stored = standing.custom_role.get("permissions") if standing.custom_role else None
        grant = grant_of(membership.role, stored)
        principal = Principal(
            account_id=account.id,
            organization_id=membership.organization_id,
            email=account.email,
            role=membership.role,
            permissions=grant.permissions,
            token_id=claims.token_id,
            token_expires_at=claims.expires_at,
            workspace_id=claims.workspace_id,
        )
        workspace = self._workspaces.settled(principal, standing.workspace, standing.seat)
        await self._note_activity(membership)
        return Caller(
            principal, organization, workspace, email_verified_at=account.email_verified_at
        )

    async def _note_activity(self, membership: Membership) -> None:
        """Move the membership's `last_active_at` when the check's read saw it older than
        `ACTIVITY_INTERVAL`; otherwise nothing is written. A failed write costs only the
        figure's freshness, never the request."""
        now = datetime.now(UTC)
        stale = now - ACTIVITY_INTERVAL
        if membership.last_active_at is not None and membership.last_active_at >= stale:
            return
        try:
            await self._memberships.mark_active(membership, now, stale)
        except PyMongoError:
            logger.warning("could not record the activity of membership %s", membership.id)

    async def reauthenticate(
        self, principal: Principal, email: str, password: str, address: str
    ) -> None:
        """Step-up check: the email and password must be those of the caller's own account.

        Failures count towards the same throttle as logins (the attempt is reserved before the
        password is checked): a stolen token is no way around it.
        """
        async with await self._reserve(principal.email, address) as attempt:
            account = await self._accounts.get(principal.account_id)
            valid = await self._hasher.verify(password, account.password_hash if account else None)
            if account is None or not valid or email_key(email) != email_key(account.email):
                attempt.failed()
                self._refuse()

    async def verify_existing(self, account: Account, password: str, address: str) -> bool:
        """Whether `password` is the account's, counting a wrong one against the throttle."""
        async with await self._reserve(account.email, address) as attempt:
            if await self._hasher.verify(password, account.password_hash):
                return True
            attempt.failed()
        self._metrics.login_failures.labels("invalid_credentials").inc()
        return False

    async def change_password(
        self, principal: Principal, current: str, new: str, address: str
    ) -> None:
        """Replace the password; every token of the account issued before stops working."""
        try:
            await self.reauthenticate(principal, principal.email, current, address)
        except InvalidCredentials:
            raise WrongCurrentPassword() from None
        await self._accounts.set_password(principal.account_id, await self._hasher.hash(new))
        await self._audit.record(
            AuditAction.PASSWORD_CHANGE, **actor_fields(principal), target=principal.email
        )

    async def logout(self, principal: Principal) -> None:
        await self._revoked.revoke(principal.token_id, principal.token_expires_at)
        await self._audit.record(AuditAction.LOGOUT, **actor_fields(principal))

    async def logout_everywhere(self, principal: Principal) -> None:
        await self._accounts.bump_token_version(principal.account_id)
        await self._audit.record(
            AuditAction.LOGOUT, **actor_fields(principal), details={"everywhere": True}
        )

    def _issue(
        self, account: Account, membership: Membership, workspace_id: ObjectId | None = None
    ) -> LoginResult:
        token = self._tokens.issue(
            account.id,
            membership.organization_id,
            account.email,
            role=membership.role,
            version=account.token_version,
            membership_version=membership.version,
            workspace_id=workspace_id,
        )
        return LoginResult(token, account.id, membership.organization_id, membership.role)

    async def _reserve(self, email: str, address: str, trusted: bool | None = None) -> Attempt:
        """A place under the throttle for one password check, taken before bcrypt runs."""
        if trusted is None:
            trusted = await self._throttle.is_trusted(email, address)
        try:
            return await self._throttle.reserve(email, address, trusted=trusted)
        except TooManyAttempts:
            self._metrics.login_failures.labels("throttled").inc()
            raise

    def _refuse(self) -> NoReturn:
        self._metrics.login_failures.labels("invalid_credentials").inc()
        raise InvalidCredentials()


def _membership_to_enter(found: SigningIn, wanted: ObjectId | None) -> Membership | None:
    """The membership a login enters: `wanted`'s, else the account's home organization's,
    else its earliest; only in an organization clients see."""

    def visible(entry: Document | None) -> bool:
        return entry is not None and LifecycleState(entry["state"]) in VISIBLE

    if wanted is not None:
        for membership, entry in found.memberships:
            if membership.organization_id == wanted and visible(entry):
                return membership
        raise NotAMember()
    home = found.account.organization_id
    ordered = sorted(found.memberships, key=lambda pair: pair[0].organization_id != home)
    return next((membership for membership, entry in ordered if visible(entry)), None)
