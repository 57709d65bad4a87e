"""`/api/v1/organizations/{org_id}/billing`: the organization's plan and billing details."""

from typing import Annotated

from fastapi import APIRouter, Depends

from app.audit.trail import AuditTrail
from app.auth.dependencies import caller_allowed
from app.auth.permissions import Action, who_may
from app.auth.principal import Principal
from app.billing.repository import BillingRepository
from app.billing.schemas import BillingRead, BillingUpdate
from app.billing.service import BillingService
from app.context import ContextDep
from app.members.repository import MembershipRepository
from app.openapi import INVALID_INPUT, UNAUTHENTICATED, error
from app.organizations.repository import OrganizationRepository


def get_billing_service(context: ContextDep) -> BillingService:
    store = context.store
    return BillingService(
        BillingRepository(store),
        OrganizationRepository(store),
        MembershipRepository(store),
        context.settings,
        AuditTrail(store),
    )


BillingServiceDep = Annotated[BillingService, Depends(get_billing_service)]
BillingReader = Annotated[Principal, Depends(caller_allowed(Action.READ_BILLING))]
BillingEditor = Annotated[Principal, Depends(caller_allowed(Action.EDIT_BILLING))]

router = APIRouter(prefix="/api/v1/organizations/{org_id}/billing", tags=["billing"])

NOT_FOUND = error("The path's `org_id` is not an organization id, or the organization is gone.")
FORBIDDEN = error("The token acts for another organization, or the caller's role may not.")


@router.get(
    "",
    summary="Read the organization's plan and billing details",
    description=(
        f"{who_may(Action.READ_BILLING)}\n\n"
        "`member_limit` is how many members, pending invitations included, the plan allows "
        "(`null`: no limit). Details never set are `null`."
    ),
    responses={**UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
)
async def read_billing(caller: BillingReader, billing: BillingServiceDep) -> BillingRead:
    return BillingRead.of(await billing.get(caller.organization_id))


@router.patch(
    "",
    summary="Change the organization's plan or billing details",
    description=(
        f"{who_may(Action.EDIT_BILLING)}\n\n"
        "Only the fields in the body change; `null` clears an optional field (`plan` cannot "
        "be cleared). `billing_address` is replaced as a whole. A plan whose member limit is "
        "below the organization's members plus pending invitations is refused."
    ),
    responses={
        **INVALID_INPUT,
        **UNAUTHENTICATED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        409: error("The new plan allows fewer members than the organization has."),
        423: error("The organization is suspended; it cannot change until reactivated."),
    },
)
async def update_billing(
    body: BillingUpdate, caller: BillingEditor, billing: BillingServiceDep
) -> BillingRead:
    return BillingRead.of(await billing.update(caller, body.changes()))
