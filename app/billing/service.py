"""Plans and billing details: reading them, and changing them within what the plan allows."""

from dataclasses import dataclass

from bson import ObjectId

from app.access.principal import Principal
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.billing.models import BillingChanges, BillingRecord, update_paths
from app.events.catalogue import EventType
from app.events.models import Actor
from app.events.outbox import Outbox
from app.events.subjects import flatten, organization_event_subject
from app.invitations.seats import Seats
from app.plans import Plan, Plans
from app.registry.errors import OrganizationNotFound
from app.registry.repository import OrganizationRepository


@dataclass(frozen=True, slots=True)
class BillingView:
    plan: Plan
    member_limit: int | None
    record: BillingRecord


class BillingService:
    def __init__(
        self,
        organizations: OrganizationRepository,
        seats: Seats,
        plans: Plans,
        audit: AuditTrail,
        events: Outbox,
    ) -> None:
        self._organizations = organizations
        self._seats = seats
        self._plans = plans
        self._audit = audit
        self._events = events

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
            await self._seats.require_room_for_all(organization_id, plan)
        if not changes:
            return self._view(current)
        to_set, to_unset = update_paths(changes)
        previous = self._plan_of(current)
        new_plan = plan if plan is not None else previous
        expect = {**flatten(to_set), **dict.fromkeys(to_unset)}
        async with self._events.recording(
            EventType.ORGANIZATION_PLAN_CHANGED
            if new_plan is not previous
            else EventType.ORGANIZATION_BILLING_UPDATED,
            organization_id,
            Actor.of(principal),
            {
                "plan": new_plan.value,
                "previous_plan": previous.value,
                "member_limit": self._plans.member_limit(new_plan),
                "changed": sorted(changes),
            },
            organization_event_subject(organization_id, **expect),
        ):
            document = await self._organizations.update_billing(organization_id, to_set, to_unset)
            if document is None:
                raise OrganizationNotFound()
        await self._audit.record(
            AuditAction.BILLING_UPDATE,
            **actor_fields(principal),
            details={"fields": sorted(changes), **({"plan": str(plan)} if plan else {})},
        )
        return self._view(BillingRecord.from_document(document))

    async def _record(self, organization_id: ObjectId) -> BillingRecord:
        document = await self._organizations.billing_of(organization_id)
        if document is None:
            raise OrganizationNotFound()
        return BillingRecord.from_document(document)

    def _plan_of(self, record: BillingRecord) -> Plan:
        return record.plan or self._plans.default

    def _view(self, record: BillingRecord) -> BillingView:
        plan = self._plan_of(record)
        return BillingView(plan, self._plans.member_limit(plan), record)
