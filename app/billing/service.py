"""Plans and billing details: reading them, and changing them within what the plan allows."""

from dataclasses import dataclass

from bson import ObjectId

from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.auth.principal import Principal
from app.billing.repository import BillingChanges, BillingRecord, BillingRepository, Plan
from app.config import Settings
from app.errors import Conflict
from app.members.repository import MembershipRepository
from app.organizations.errors import OrganizationNotFound
from app.organizations.repository import OrganizationRepository


class PlanTooSmall(Conflict):
    def __init__(self, plan: Plan, limit: int, members: int, pending: int) -> None:
        super().__init__(
            f"The {plan.value} plan allows {limit} members, pending invitations included; "
            f"this organization has {members} members and {pending} pending invitations. "
            "Remove members or revoke invitations first, or choose a larger plan."
        )


@dataclass(frozen=True, slots=True)
class BillingView:
    plan: Plan
    member_limit: int | None
    record: BillingRecord


class BillingService:
    def __init__(
        self,
        billing: BillingRepository,
        organizations: OrganizationRepository,
        memberships: MembershipRepository,
        settings: Settings,
        audit: AuditTrail,
    ) -> None:
        self._billing = billing
        self._organizations = organizations
        self._memberships = memberships
        self._settings = settings
        self._audit = audit

    async def get(self, organization_id: ObjectId) -> BillingView:
        return self._view(await self._record(organization_id))

    async def update(self, principal: Principal, changes: BillingChanges) -> BillingView:
        """Change the fields in `changes`, refusing a plan too small for the organization."""
        organization_id = principal.organization_id
        await self._organizations.require_writable(organization_id)
        current = await self._record(organization_id)
        plan = changes.get("plan")
        # Only a change of plan is checked: confirming the current plan never fails, even for
        # an organization that a lowered PLAN_MEMBER_LIMITS has left over its limit.
        if plan is not None and plan is not self._plan_of(current):
            await self._check_room(organization_id, plan)
        if not changes:
            return self._view(current)
        updated = await self._billing.update(organization_id, changes)
        if updated is None:
            raise OrganizationNotFound()
        await self._audit.record(
            AuditAction.BILLING_UPDATE,
            **actor_fields(principal),
            details={"fields": sorted(changes), **({"plan": str(plan)} if plan else {})},
        )
        return self._view(updated)

    async def _check_room(self, organization_id: ObjectId, plan: Plan) -> None:
        # Counted before the update, not atomically with it (MongoDB offers no such check
        # across collections without transactions): a member added in between can leave the
        # organization over the new limit, so adding members must check the limit as well.
        limit = self._settings.member_limit(plan.value)
        if limit is None:
            return
        members = await self._memberships.count_for_organization(organization_id)
        pending = await self._billing.count_pending_invitations(organization_id)
        if members + pending > limit:
            raise PlanTooSmall(plan, limit, members, pending)

    async def _record(self, organization_id: ObjectId) -> BillingRecord:
        record = await self._billing.get(organization_id)
        if record is None:
            raise OrganizationNotFound()
        return record

    def _plan_of(self, record: BillingRecord) -> Plan:
        return record.plan or Plan(self._settings.default_plan)

    def _view(self, record: BillingRecord) -> BillingView:
        plan = self._plan_of(record)
        return BillingView(plan, self._settings.member_limit(plan.value), record)
