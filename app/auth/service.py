"""Logging in and out, and turning a bearer token back into a caller."""

from dataclasses import dataclass
from typing import NoReturn

from bson import ObjectId

from app.auth.models import email_key
from app.auth.passwords import PasswordHasher
from app.auth.principal import Principal
from app.auth.repository import AccountRepository
from app.auth.revocation import RevokedTokens
from app.auth.throttle import LoginThrottle
from app.auth.tokens import IssuedToken, TokenCodec
from app.errors import InvalidCredentials, NotAuthenticated, TooManyAttempts
from app.observability.metrics import Metrics
from app.organizations.repository import OrganizationRepository


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: IssuedToken
    account_id: ObjectId
    organization_id: ObjectId


class AuthService:
    def __init__(
        self,
        accounts: AccountRepository,
        organizations: OrganizationRepository,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        throttle: LoginThrottle,
        revoked: RevokedTokens,
        metrics: Metrics,
    ) -> None:
        self._accounts = accounts
        self._organizations = organizations
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._revoked = revoked
        self._metrics = metrics

    async def login(self, email: str, password: str, address: str) -> LoginResult:
        await self._check_throttle(email, address)
        account = await self._accounts.find_by_email(email)
        # An unknown email costs one bcrypt check too, and fails with the same error.
        valid = await self._hasher.verify(password, account.password_hash if account else None)
        if account is None or not valid:
            await self._failed(email, address)
        if not await self._organizations.is_visible(account.organization_id):
            raise InvalidCredentials()
        await self._throttle.record_success(email, address)
        token = self._tokens.issue(
            account.id, account.organization_id, account.email, account.token_version
        )
        return LoginResult(token, account.id, account.organization_id)

    async def authenticate(self, token: str) -> Principal:
        """The caller a token stands for, while the token is live and its account and
        organization still exist."""
        claims = self._tokens.decode(token)
        account = await self._accounts.get(claims.account_id)
        if (
            account is None
            or account.organization_id != claims.organization_id
            or account.token_version != claims.version
        ):
            raise NotAuthenticated()
        if await self._revoked.is_revoked(claims.token_id):
            raise NotAuthenticated("Token has been revoked")
        if not await self._organizations.is_visible(claims.organization_id):
            raise NotAuthenticated()
        return Principal(
            account_id=account.id,
            organization_id=account.organization_id,
            email=account.email,
            role=account.role,
            token_id=claims.token_id,
            token_expires_at=claims.expires_at,
        )

    async def reauthenticate(
        self, principal: Principal, email: str, password: str, address: str
    ) -> None:
        """Step-up check: the email and password must be those of the caller's own account.

        Failures count towards the same throttle as logins: a stolen token is no way around it.
        """
        await self._check_throttle(principal.email, address)
        account = await self._accounts.get(principal.account_id)
        valid = await self._hasher.verify(password, account.password_hash if account else None)
        if account is None or not valid or email_key(email) != email_key(account.email):
            await self._failed(principal.email, address)

    async def logout(self, principal: Principal) -> None:
        await self._revoked.revoke(principal.token_id, principal.token_expires_at)

    async def logout_everywhere(self, principal: Principal) -> None:
        await self._accounts.bump_token_version(principal.account_id)

    async def _check_throttle(self, email: str, address: str) -> None:
        try:
            await self._throttle.check(email, address)
        except TooManyAttempts:
            self._metrics.login_failures.labels("throttled").inc()
            raise

    async def _failed(self, email: str, address: str) -> NoReturn:
        self._metrics.login_failures.labels("invalid_credentials").inc()
        await self._throttle.record_failure(email, address)
        raise InvalidCredentials()
