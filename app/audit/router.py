"""`GET /api/v1/organizations/{org_id}/audit-log`."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from app.audit.trail import AuditEntry, AuditTrail
from app.auth.dependencies import caller_allowed
from app.auth.permissions import Action, who_may
from app.auth.principal import Principal
from app.context import ContextDep
from app.openapi import INVALID_INPUT, UNAUTHENTICATED, error
from app.pagination import Page, PageQuery

router = APIRouter(prefix="/api/v1/organizations/{org_id}/audit-log", tags=["audit log"])


class AuditEntryRead(BaseModel):
    id: str
    at: datetime
    action: str
    actor_id: str | None
    actor_email: str | None
    target: str | None
    client_address: str | None
    request_id: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditEntryRead":
        return cls(
            id=str(entry.id),
            at=entry.at,
            action=entry.action,
            actor_id=str(entry.actor_id) if entry.actor_id else None,
            actor_email=entry.actor_email,
            target=entry.target,
            client_address=entry.client_address,
            request_id=entry.request_id,
            details=entry.details,
        )


def get_audit_trail(context: ContextDep) -> AuditTrail:
    return AuditTrail(context.store)


@router.get(
    "",
    summary="What changed in the organization, newest first",
    description=who_may(Action.READ_AUDIT_LOG),
    responses={
        **INVALID_INPUT,
        **UNAUTHENTICATED,
        403: error("The token acts for another organization, or the role may not read it."),
        404: error("No such organization."),
    },
)
async def read_audit_log(
    caller: Annotated[Principal, Depends(caller_allowed(Action.READ_AUDIT_LOG))],
    trail: Annotated[AuditTrail, Depends(get_audit_trail)],
    page: PageQuery,
    action: Annotated[
        str | None, Query(max_length=64, description="e.g. member.role_change")
    ] = None,
    since: Annotated[datetime | None, Query(description="From this time (inclusive).")] = None,
    until: Annotated[datetime | None, Query(description="Before this time.")] = None,
) -> Page[AuditEntryRead]:
    entries, total = await trail.page(
        caller.organization_id, action, since, until, page.offset, page.limit
    )
    return Page.of([AuditEntryRead.of(e) for e in entries], total, page)
