"""`/api/v1/organizations/{org_id}/billing`: the organization's plan and billing details."""

from fastapi import APIRouter

from app.access.permissions import Action, who_may
from app.api.deps import BillingDep, BillingEditor, BillingReader
from app.api.responses import INVALID_INPUT, UNAUTHENTICATED, error
from app.billing.schemas import BillingRead, BillingUpdate

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
async def read_billing(caller: BillingReader, billing: BillingDep) -> BillingRead:
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
    body: BillingUpdate, caller: BillingEditor, billing: BillingDep
) -> BillingRead:
    return BillingRead.of(await billing.update(caller, body.changes()))
