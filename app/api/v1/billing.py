"""`/api/v1/organizations/{org_id}/billing`: the organization's plan and billing details."""

from fastapi import APIRouter

from app.access.permissions import Permission, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, BillingDep, BillingEditor, BillingReader
from app.api.openapi import operation_ids
from app.api.responses import errors
from app.billing.schemas import BillingRead, BillingUpdate
from app.errors import PreconditionFailed
from app.invitations.seats import PlanTooSmall
from app.registry.errors import OrganizationSuspended

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/billing",
    tags=["billing"],
    generate_unique_id_function=operation_ids("billing"),
)


@router.get(
    "",
    summary="Read the organization's plan and billing details",
    description=(
        f"{who_may(Permission.READ_BILLING)}\n\n"
        "`member_limit` is how many members, pending invitations included, the plan allows "
        "(`null`: no limit). Details never set are `null`."
    ),
    responses=errors(*SCOPED_ERRORS),
)
async def read(caller: BillingReader, billing: BillingDep) -> BillingRead:
    return BillingRead.of(await billing.get(caller.organization_id))


@router.patch(
    "",
    summary="Change the organization's plan or billing details",
    description=(
        f"{who_may(Permission.EDIT_BILLING)}\n\n"
        "Only the fields in the body change; `null` clears an optional field (`plan` cannot "
        "be cleared). `billing_address` is replaced as a whole. A plan whose member limit is "
        "below the organization's members plus pending invitations is refused."
    ),
    responses=errors(*SCOPED_ERRORS, PlanTooSmall, OrganizationSuspended, PreconditionFailed),
)
async def update(body: BillingUpdate, caller: BillingEditor, billing: BillingDep) -> BillingRead:
    return BillingRead.of(await billing.update(caller, body.changes()))
