"""`GET /api/v1/organizations/{org_id}/audit-log`."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.access.permissions import Permission, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, AuditDep, AuditReader
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import errors
from app.audit.schemas import AuditEntryRead
from app.kit.times import Rfc3339Input

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/audit-log",
    tags=["audit"],
    generate_unique_id_function=operation_ids("audit_log"),
)


@router.get(
    "",
    name="list",
    summary="What changed in the organization, newest first",
    description=who_may(Permission.READ_AUDIT_LOG),
    responses={**errors(*SCOPED_ERRORS), **PAGED},
)
async def read_audit_log(
    caller: AuditReader,
    trail: AuditDep,
    page: PageQuery,
    action: Annotated[
        str | None, Query(max_length=64, description="e.g. member.role_change")
    ] = None,
    since: Annotated[
        Rfc3339Input | None, Query(description="From this time (inclusive), RFC 3339.")
    ] = None,
    until: Annotated[Rfc3339Input | None, Query(description="Before this time, RFC 3339.")] = None,
) -> Page[AuditEntryRead]:
    listed = await trail.page(caller.organization_id, action, since, until, page.window)
    return Page.of([AuditEntryRead.of(e) for e in listed.items], listed, page)
