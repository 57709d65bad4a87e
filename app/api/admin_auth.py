"""Who may call `/api/v1/admin`: a platform key (`Authorization: Bearer tkp_...`) holding the
scope the route needs, `read` for reads and `write` for changes.

The check is its own: an organization's token or key is refused here (401), and a platform
key is refused by the organization API's check, which knows no platform keys.
"""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.deps import PlatformKeysDep
from app.errors import AppError
from app.platform.models import PlatformKey, PlatformScope
from app.platform.service import PlatformKeyRefused, PlatformScopeMissing

platform_credentials = HTTPBearer(
    scheme_name="PlatformKey",
    auto_error=False,
    description="A platform key (`tkp_...`), made by `tenantry platform-keys create`.",
)
PlatformCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(platform_credentials)]


async def platform_reader(credentials: PlatformCredentials, keys: PlatformKeysDep) -> PlatformKey:
    return await keys.authenticate(
        credentials.credentials if credentials else None, PlatformScope.READ
    )


async def platform_writer(credentials: PlatformCredentials, keys: PlatformKeysDep) -> PlatformKey:
    return await keys.authenticate(
        credentials.credentials if credentials else None, PlatformScope.WRITE
    )


PlatformReader = Annotated[PlatformKey, Depends(platform_reader)]
PlatformWriter = Annotated[PlatformKey, Depends(platform_writer)]

READ_ERRORS: tuple[type[AppError], ...] = (PlatformKeyRefused,)
WRITE_ERRORS: tuple[type[AppError], ...] = (PlatformKeyRefused, PlatformScopeMissing)
