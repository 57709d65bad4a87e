"""Access tokens: signed JWTs that name an account and the organization it acts for, by id."""

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from bson import ObjectId

from app.db.ids import parse_object_id
from app.errors import NotAuthenticated, TokenExpired

REQUIRED_CLAIMS = ("sub", "admin_id", "org_id", "email", "iat", "exp", "jti", "iss", "aud")
# Far above any token this service issues; refuses to parse megabytes of attacker input.
MAX_TOKEN_LENGTH = 4096
# How many verified tokens a codec remembers, most recently used first (see `decode`).
VERIFIED_TOKENS_KEPT = 4096
# The last second `datetime` can hold (9999-12-31T23:59:59Z).
_LAST_TIMESTAMP = 253_402_300_799


def _is_time(value: object) -> bool:
    """A NumericDate as this service writes it: whole seconds since the epoch, that a
    `datetime` can hold. PyJWT alone lets `"1900000000"`, `1.5` or `1e300` through."""
    return type(value) is int and 0 <= value <= _LAST_TIMESTAMP


def _is_count(value: object) -> bool:
    return type(value) is int and 0 <= value < 2**63


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime
    lifetime_seconds: int


@dataclass(frozen=True, slots=True)
class TokenClaims:
    account_id: ObjectId
    organization_id: ObjectId
    email: str
    token_id: str
    expires_at: datetime
    version: int
    role: str
    membership_version: int
    workspace_id: ObjectId | None = None


def key_id(key: str) -> str:
    """A public name for a signing key (`kid`), derived from it without revealing it."""
    return hashlib.sha256(b"tenantry-kid:" + key.encode()).hexdigest()[:16]


class TokenCodec:
    """Signs with the first key; verifies with whichever key the token's `kid` names."""

    def __init__(
        self,
        *,
        keys: list[str],
        algorithm: str,
        lifetime: timedelta,
        issuer: str,
        audience: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._key = keys[0]
        self._kid = key_id(keys[0])
        self._keys = {key_id(key): key for key in keys}
        self._algorithm = algorithm
        self._lifetime = lifetime
        self._issuer = issuer
        self._audience = audience
        self._verified: OrderedDict[str, TokenClaims] = OrderedDict()
        self._clock = clock

    def issue(
        self,
        account_id: ObjectId,
        organization_id: ObjectId,
        email: str,
        *,
        role: str,
        version: int = 0,
        membership_version: int = 0,
        workspace_id: ObjectId | None = None,
    ) -> IssuedToken:
        now = datetime.now(UTC).replace(microsecond=0)
        expires_at = now + self._lifetime
        claims = {
            "sub": str(account_id),
            "admin_id": str(account_id),
            "org_id": str(organization_id),
            "email": email,
            "iat": now,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
            "iss": self._issuer,
            "aud": self._audience,
            "ver": version,
            "role": role,
            "mver": membership_version,
        }
        if workspace_id is not None:
            claims["ws"] = str(workspace_id)
        token = jwt.encode(claims, self._key, algorithm=self._algorithm, headers={"kid": self._kid})
        return IssuedToken(token, expires_at, int(self._lifetime.total_seconds()))

    def decode(self, token: str) -> TokenClaims:
        """Verify signature, algorithm, expiry, issuer and audience; raise NotAuthenticated.

        A token verified once is remembered (the latest `VERIFIED_TOKENS_KEPT` of them) with
        its claims, which cannot change: a client sending it again costs a dictionary look-up
        and the expiry check, not a signature check. What can change (revocation, roles) is
        checked against the database on every request anyway.
        """
        known = self._verified.get(token)
        if known is not None:
            if self._clock() >= known.expires_at:
                del self._verified[token]
                raise TokenExpired()
            self._verified.move_to_end(token)
            return known
        claims = self._verify(token)
        self._verified[token] = claims
        if len(self._verified) > VERIFIED_TOKENS_KEPT:
            self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> TokenClaims:
        if len(token) > MAX_TOKEN_LENGTH:
            raise NotAuthenticated()
        try:
            kid = jwt.get_unverified_header(token).get("kid", self._kid)
            key = self._keys.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise NotAuthenticated()
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired() from None
        except jwt.PyJWTError:
            raise NotAuthenticated() from None

        account = parse_object_id(claims["admin_id"])
        organization = parse_object_id(claims["org_id"])
        if (
            account is None
            or organization is None
            or claims["sub"] != claims["admin_id"]
            or not _is_time(claims["exp"])
            or not _is_time(claims["iat"])
            or not isinstance(claims["email"], str)
            or not isinstance(claims["jti"], str)
            or not _is_count(claims.get("ver", 0))
            or not _is_count(claims.get("mver", 0))
            or not isinstance(claims.get("role", ""), str)
            or ("ws" in claims and parse_object_id(claims["ws"]) is None)
        ):
            raise NotAuthenticated()
        return TokenClaims(
            account_id=account,
            organization_id=organization,
            email=claims["email"],
            token_id=claims["jti"],
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            version=claims.get("ver", 0),
            role=claims.get("role", ""),
            membership_version=claims.get("mver", 0),
            workspace_id=parse_object_id(claims.get("ws")),
        )
