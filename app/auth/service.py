"""Logging in, and turning a bearer token back into a caller."""

from dataclasses import dataclass

from bson import ObjectId

from app.auth.models import email_key
from app.auth.passwords import PasswordHasher
from app.auth.principal import Principal
from app.auth.repository import AccountRepository
from app.auth.tokens import IssuedToken, TokenCodec
from app.errors import InvalidCredentials, NotAuthenticated
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
    ) -> None:
        self._accounts = accounts
        self._organizations = organizations
        self._hasher = hasher
        self._tokens = tokens

    async def login(self, email: str, password: str) -> LoginResult:
        account = await self._accounts.find_by_email(email)
        # An unknown email costs one bcrypt check too, and fails with the same error.
        valid = await self._hasher.verify(password, account.password_hash if account else None)
        if account is None or not valid:
            raise InvalidCredentials()
        if await self._organizations.get_visible(account.organization_id) is None:
            raise InvalidCredentials()
        token = self._tokens.issue(account.id, account.organization_id, account.email)
        return LoginResult(token, account.id, account.organization_id)

    async def authenticate(self, token: str) -> Principal:
        """The caller a token stands for, as long as its account and organization still exist."""
        claims = self._tokens.decode(token)
        account = await self._accounts.get(claims.account_id)
        if account is None or account.organization_id != claims.organization_id:
            raise NotAuthenticated()
        if await self._organizations.get_visible(claims.organization_id) is None:
            raise NotAuthenticated()
        return Principal(
            account_id=account.id,
            organization_id=account.organization_id,
            email=account.email,
            role=account.role,
            token_id=claims.token_id,
        )

    async def reauthenticate(self, principal: Principal, email: str, password: str) -> None:
        """Step-up check: the email and password must be those of the caller's own account."""
        account = await self._accounts.get(principal.account_id)
        valid = await self._hasher.verify(password, account.password_hash if account else None)
        if account is None or not valid or email_key(email) != email_key(account.email):
            raise InvalidCredentials()
