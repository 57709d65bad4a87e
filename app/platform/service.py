"""Platform keys: minted and revoked by an operator (the CLI), checked on each admin call.

A key is checked in one read of its record by `_id` (the id its secret carries), then its
keyed hash; a revoked key fails from the next request on, on every instance, since nothing
about it is remembered between requests. `last_used_at` is written at most once a minute.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from app.access.keys import KeyHasher, KeyKind, parse_key
from app.audit.trail import AuditAction, AuditTrail
from app.db.ids import parse_object_id
from app.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from app.kit.names import InvalidName, check_name
from app.platform.models import PlatformKey, PlatformScope
from app.platform.repository import PlatformKeyRepository

Clock = Callable[[], datetime]
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_KEY_NAME_LENGTH = 100


class PlatformKeyRefused(NotAuthenticated):
    code = "platform_key_invalid"
    detail = "A valid platform key is required: Authorization: Bearer tkp_..."
    title = "No platform key, or one that is malformed, unknown or revoked"


class PlatformScopeMissing(Forbidden):
    code = "platform_scope_missing"
    detail = "This platform key has the read scope only; changes need a write key"
    title = "The platform key's scope does not allow this call"


class PlatformKeyNotFound(NotFound):
    code = "platform_key_not_found"
    detail = "No platform key has that id"


@dataclass(frozen=True, slots=True)
class MintedPlatformKey:
    key: PlatformKey
    secret: str


def utc_now() -> datetime:
    return datetime.now(UTC)


class PlatformKeys:
    def __init__(
        self,
        keys: PlatformKeyRepository,
        hasher: KeyHasher,
        audit: AuditTrail,
        clock: Clock = utc_now,
    ) -> None:
        self._keys = keys
        self._hasher = hasher
        self._audit = audit
        self._clock = clock

    async def create(self, name: str, scope: PlatformScope, created_by: str) -> MintedPlatformKey:
        """A new key; its secret is in the answer and nowhere else."""
        try:
            display = check_name(name, MAX_KEY_NAME_LENGTH)
        except InvalidName as exc:
            raise InvalidInput(("name",), f"the name {exc}") from None
        minted = self._hasher.mint(KeyKind.PLATFORM)
        scopes = (PlatformScope.READ, PlatformScope.WRITE)
        key = PlatformKey(
            id=minted.key_id,
            name=display,
            scopes=scopes if scope is PlatformScope.WRITE else (PlatformScope.READ,),
            digest=minted.digest,
            created_at=self._clock(),
            created_by=created_by,
        )
        await self._keys.insert(key)
        await self._audit.record(
            AuditAction.PLATFORM_KEY_CREATE,
            organization_id=None,
            actor_email=created_by or None,
            target=key.prefix,
            details={"name": key.name, "scope": key.scope.value},
        )
        return MintedPlatformKey(key, minted.secret)

    async def list(self) -> list[PlatformKey]:
        return await self._keys.all()

    async def revoke(self, reference: str, revoked_by: str) -> tuple[PlatformKey, bool]:
        """Revoke the key named by its id or its prefix (`tkp_<id>`); whether it was live."""
        key = await self._find(reference)
        revoked = await self._keys.revoke(key.id, self._clock())
        if revoked:
            await self._audit.record(
                AuditAction.PLATFORM_KEY_REVOKE,
                organization_id=None,
                actor_email=revoked_by or None,
                target=key.prefix,
                details={"name": key.name},
            )
        return (await self._find(reference)), revoked

    async def authenticate(self, credential: str | None, needed: PlatformScope) -> PlatformKey:
        """The live platform key `credential` is, allowed `needed`; anything else (an
        organization's token or key included) is refused."""
        presented = parse_key(credential) if credential else None
        if presented is None or presented.kind is not KeyKind.PLATFORM:
            raise PlatformKeyRefused()
        key = await self._keys.get(presented.key_id)
        if key is None or key.revoked_at is not None:
            raise PlatformKeyRefused()
        if not self._hasher.matches(presented, key.digest):
            raise PlatformKeyRefused()
        if not key.allows(needed):
            raise PlatformScopeMissing()
        now = self._clock()
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
            await self._keys.mark_used(key.id, now, now - LAST_USED_PRECISION)
        return key

    async def _find(self, reference: str) -> PlatformKey:
        text = reference.strip()
        text = text.removeprefix(f"{KeyKind.PLATFORM.value}_")
        key_id = parse_object_id(text.lower())
        key = await self._keys.get(key_id) if isinstance(key_id, ObjectId) else None
        if key is None:
            raise PlatformKeyNotFound()
        return key
