"""Seats: members and pending invitations, counted against the plan's member limit."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bson import ObjectId

from app.accounts.memberships import MembershipRepository
from app.errors import Conflict
from app.invitations.repository import InvitationRepository
from app.plans import Plan, Plans
from app.registry.repository import OrganizationRepository

# The organization's lease that every taker of a seat holds while it counts and takes one.
_SEAT_LEASE = "invitations"


class MemberLimitReached(Conflict):
    code = "member_limit_reached"
    detail = "The organization's plan allows no more members (pending invitations count)"


class PlanTooSmall(Conflict):
    code = "plan_too_small"
    detail = "The chosen plan allows fewer members than the organization has"
    title = "The plan allows fewer members than the organization has, pending invitations included"

    def __init__(self, plan: Plan, limit: int, taken: "TakenSeats") -> None:
        super().__init__(
            f"The {plan.value} plan allows {limit} members, pending invitations included; "
            f"this organization has {taken.members} members and {taken.pending_invitations} "
            "pending invitations. Remove members or revoke invitations first, or choose a "
            "larger plan."
        )


@dataclass(frozen=True, slots=True)
class TakenSeats:
    members: int
    pending_invitations: int

    @property
    def total(self) -> int:
        return self.members + self.pending_invitations


class Seats:
    def __init__(
        self,
        memberships: MembershipRepository,
        invitations: InvitationRepository,
        organizations: OrganizationRepository,
        plans: Plans,
    ) -> None:
        self._memberships = memberships
        self._invitations = invitations
        self._organizations = organizations
        self._plans = plans

    @asynccontextmanager
    async def taking_one(self, organization_id: ObjectId) -> AsyncIterator[None]:
        """Room for one more seat, for the block that takes it: counted under the
        organization's seat lease, which invitations, joins and direct adds all hold, so
        that two of them never both count the last free seat. Raises MemberLimitReached
        when there is none."""
        async with self._organizations.holding(organization_id, _SEAT_LEASE) as hold:
            plan = self._plans.of(await self._organizations.plan_of(organization_id))
            await self._require_one_free(organization_id, plan)
            # The count holds only while the lease is ours: a holder that outlived it (a
            # slow count, a paused process) must not take a seat counted by someone else.
            await hold.confirm()
            yield

    async def taken(self, organization_id: ObjectId) -> TakenSeats:
        return TakenSeats(
            await self._memberships.count_for_organization(organization_id),
            await self._invitations.count_pending(organization_id),
        )

    async def _require_one_free(self, organization_id: ObjectId, plan: Plan) -> None:
        """Raise MemberLimitReached unless the plan leaves room for one more seat."""
        limit = self._plans.member_limit(plan)
        if limit is not None and (await self.taken(organization_id)).total >= limit:
            raise MemberLimitReached()

    async def require_room_for_all(self, organization_id: ObjectId, plan: Plan) -> None:
        """Raise PlanTooSmall unless every seat taken fits in the plan."""
        # Counted before the change of plan, not atomically with it (MongoDB offers no such
        # check across collections without transactions): a member added in between can
        # leave the organization over the new limit, so adding members checks the limit too.
        limit = self._plans.member_limit(plan)
        if limit is None:
            return
        taken = await self.taken(organization_id)
        if taken.total > limit:
            raise PlanTooSmall(plan, limit, taken)
