"""Platform keys on an operator's word: made, listed and revoked from the command line."""

from app.access.keys import KeyHasher
from app.audit.trail import AuditTrail
from app.config import Settings
from app.db.store import Store
from app.platform.models import PlatformKey, PlatformScope
from app.platform.repository import PlatformKeyRepository
from app.platform.service import MintedPlatformKey, PlatformKeys


def platform_keys(store: Store, settings: Settings) -> PlatformKeys:
    """The service's own, on the same signing keys: a key made here works there."""
    return PlatformKeys(
        PlatformKeyRepository(store), KeyHasher(settings.signing_keys()), AuditTrail(store)
    )


async def create_platform_key(
    store: Store, settings: Settings, name: str, scope: PlatformScope, created_by: str
) -> MintedPlatformKey:
    return await platform_keys(store, settings).create(name, scope, created_by)


async def list_platform_keys(store: Store, settings: Settings) -> list[PlatformKey]:
    return await platform_keys(store, settings).list()


async def revoke_platform_key(
    store: Store, settings: Settings, reference: str, revoked_by: str
) -> tuple[PlatformKey, bool]:
    return await platform_keys(store, settings).revoke(reference, revoked_by)
