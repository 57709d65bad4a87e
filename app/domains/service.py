"""Adding, proving, configuring and removing an organization's mail domains.

Owners and admins add a domain and publish the TXT record it answers with; `verify` looks it
up. A verified domain belongs to one organization. Verified domains are checked again on a
schedule (`DomainChecks`); one whose record is gone is `lapsed`, and its join policy stops
applying until it is verified again.
"""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
from bson import ObjectId

from app.access.permissions import Permission, builtin_grant, management_permission, require
from app.access.principal import Principal
from app.access.roles import Role
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.db.keyset import Slice, Window
from app.domains.dns_check import CheckResult, Outcome, TxtChecker
from app.domains.event_subjects import domain_data, domain_subject
from app.domains.models import Domain, DomainStatus, JoinPolicy
from app.domains.names import normalized_domain, refuse_consumer
from app.domains.repository import DomainRepository, DomainTaken, DomainVerifiedElsewhere
from app.errors import Conflict, InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.models import SYSTEM, Actor
from app.events.outbox import Outbox
from app.kit.stopping import step
from app.registry.repository import OrganizationRepository

logger = logging.getLogger(__name__)

# Domains read per query of a sweep.
SWEEP_BATCH = 100


class DomainNotFound(NotFound):
    code = "domain_not_found"
    detail = "Domain not found"


class DomainAlreadyAdded(Conflict):
    code = "domain_already_added"
    detail = "The organization has this domain already"


class DomainClaimedElsewhere(Conflict):
    code = "domain_verified_elsewhere"
    detail = "Another organization has verified this domain; a verified domain has one owner"


class DomainNotVerified(Conflict):
    code = "domain_not_verified"
    detail = "The domain's TXT record was not found"
    title = "The TXT record that proves the domain was not found; `detail` says why"


@dataclass(frozen=True, slots=True)
class DomainChange:
    join_policy: JoinPolicy | None = None
    default_role: Role | None = None


class DomainService:
    def __init__(
        self,
        domains: DomainRepository,
        organizations: OrganizationRepository,
        checker: TxtChecker,
        events: Outbox,
        audit: AuditTrail,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._domains = domains
        self._organizations = organizations
        self._checker = checker
        self._events = events
        self._audit = audit
        self._clock = clock

    async def add(self, principal: Principal, raw: str) -> Domain:
        require(principal, Permission.EDIT_ORGANIZATION)
        name = normalized_domain(raw)
        refuse_consumer(name)
        await self._organizations.require_writable(principal.organization_id)
        now = self._clock()
        domain = Domain(
            id=ObjectId(),
            organization_id=principal.organization_id,
            domain=name,
            token=secrets.token_urlsafe(24),
            status=DomainStatus.PENDING,
            join_policy=JoinPolicy.MANUAL,
            default_role=Role.MEMBER,
            created_at=now.replace(microsecond=now.microsecond // 1000 * 1000),
            created_by=principal.account_id,
        )
        try:
            async with self._events.recording(
                EventType.DOMAIN_ADDED,
                principal.organization_id,
                Actor.of(principal),
                domain_data(domain),
                domain_subject(domain.id),
            ):
                await self._domains.insert(domain)
        except DomainTaken:
            raise DomainAlreadyAdded() from None
        await self._audit.record(
            AuditAction.DOMAIN_ADD, **actor_fields(principal), target=domain.domain
        )
        return domain

    async def list(self, principal: Principal, window: Window) -> Slice[Domain]:
        require(principal, Permission.READ_ORGANIZATION)
        return await self._domains.page(principal.organization_id, window)

    async def get(self, principal: Principal, domain_id: ObjectId) -> Domain:
        require(principal, Permission.READ_ORGANIZATION)
        domain = await self._domains.get(principal.organization_id, domain_id)
        if domain is None:
            raise DomainNotFound()
        return domain

    async def verify(self, principal: Principal, domain_id: ObjectId) -> Domain:
        """Look the TXT record up now: verified if found (a verified domain checked again
        stays so), `DomainNotVerified` with the reason if not (a verified one lapses when
        the record is definitively gone)."""
        require(principal, Permission.EDIT_ORGANIZATION)
        domain = await self.get(principal, domain_id)
        await self._organizations.require_writable(principal.organization_id)
        result = await self._checker.check(domain.domain, domain.token)
        now = self._clock()
        if not result.found:
            if domain.verified and result.outcome is Outcome.ABSENT:
                await self._lapse(domain, result, Actor.of(principal), principal)
            else:
                await self._domains.note_check(domain, now, result.reason)
            raise DomainNotVerified(f"The domain is not verified: {result.reason}")
        if domain.verified:
            await self._domains.note_check(domain, now, None)
            return await self.get(principal, domain_id)
        try:
            async with self._events.recording(
                EventType.DOMAIN_VERIFIED,
                principal.organization_id,
                Actor.of(principal),
                {**domain_data(domain), "status": DomainStatus.VERIFIED.value},
                domain_subject(domain.id, status=DomainStatus.VERIFIED.value),
            ) as draft:
                if not await self._domains.mark_verified(domain, now):
                    raise DomainNotFound()
                verified = await self.get(principal, domain_id)
                draft.data = domain_data(verified)
        except DomainVerifiedElsewhere:
            await self._domains.note_check(domain, now, DomainClaimedElsewhere.detail)
            raise DomainClaimedElsewhere() from None
        await self._audit.record(
            AuditAction.DOMAIN_VERIFY, **actor_fields(principal), target=domain.domain
        )
        return verified

    async def update(
        self, principal: Principal, domain_id: ObjectId, change: DomainChange
    ) -> Domain:
        require(principal, Permission.EDIT_ORGANIZATION)
        domain = await self.get(principal, domain_id)
        await self._organizations.require_writable(principal.organization_id)
        policy = change.join_policy or domain.join_policy
        role = change.default_role or domain.default_role
        if role is Role.OWNER:
            raise InvalidInput(
                ("body", "default_role"), "owners are made by transferring ownership"
            )
        # Whoever may give a role by invitation may make it the role people join with.
        require(principal, management_permission(builtin_grant(role)))
        previous = {
            "join_policy": domain.join_policy.value,
            "default_role": domain.default_role.value,
        }
        async with self._events.recording(
            EventType.DOMAIN_UPDATED,
            principal.organization_id,
            Actor.of(principal),
            {
                **domain_data(domain),
                "join_policy": policy.value,
                "default_role": role.value,
                "previous": previous,
            },
            domain_subject(domain.id, join_policy=policy.value, default_role=role.value),
        ) as draft:
            if policy is domain.join_policy and role is domain.default_role:
                draft.skip()
            elif not await self._domains.set_policy(domain, policy, role):
                raise DomainNotFound()
        await self._audit.record(
            AuditAction.DOMAIN_UPDATE,
            **actor_fields(principal),
            target=domain.domain,
            details={"join_policy": policy.value, "default_role": role.value},
        )
        return await self.get(principal, domain_id)

    async def remove(self, principal: Principal, domain_id: ObjectId) -> None:
        require(principal, Permission.EDIT_ORGANIZATION)
        domain = await self.get(principal, domain_id)
        async with self._events.recording(
            EventType.DOMAIN_REMOVED,
            principal.organization_id,
            Actor.of(principal),
            domain_data(domain),
            domain_subject(domain.id, present=False),
        ):
            if not await self._domains.delete(domain):
                raise DomainNotFound()
        await self._audit.record(
            AuditAction.DOMAIN_REMOVE, **actor_fields(principal), target=domain.domain
        )

    async def check_due(self, every: timedelta) -> int:
        """Check the verified domains not checked for `every`; how many lapsed."""
        due_before = self._clock() - every
        lapsed = 0
        while True:
            # Each domain checked leaves the query (checked now, or lapsed), so the batches
            # move on; one checked by another instance meanwhile is merely checked twice.
            batch = await self._domains.due_for_check(due_before, SWEEP_BATCH)
            for domain in batch:
                result = await self._checker.check(domain.domain, domain.token)
                if result.outcome is Outcome.ABSENT:
                    lapsed += await self._lapse(domain, result, SYSTEM, None)
                else:
                    # A lookup that failed (a timeout, a failing server) proves nothing either
                    # way: the domain stays verified, and the reason is shown until the next.
                    await self._domains.note_check(domain, self._clock(), result.reason)
            if len(batch) < SWEEP_BATCH:
                return lapsed

    async def run_periodically(self, every: timedelta) -> None:
        """Check domains for as long as the service runs, looking every `every` (at most
        every five minutes) for those due."""
        pause = min(every.total_seconds(), 300.0)
        while True:
            await anyio.sleep(pause)
            try:
                await step(self.check_due(every))
            except Exception:
                logger.exception("could not check verified domains; trying again later")

    async def _lapse(
        self, domain: Domain, result: CheckResult, actor: Actor, principal: Principal | None
    ) -> bool:
        reason = result.reason or "the TXT record is gone"
        async with self._events.recording(
            EventType.DOMAIN_VERIFICATION_LAPSED,
            domain.organization_id,
            actor,
            {**domain_data(domain), "status": DomainStatus.LAPSED.value, "reason": reason},
            domain_subject(domain.id, status=DomainStatus.LAPSED.value),
        ) as draft:
            lapsed = await self._domains.lapse(domain, self._clock(), reason)
            if not lapsed:
                draft.skip()
        if lapsed:
            who = (
                actor_fields(principal)
                if principal
                else {"organization_id": domain.organization_id}
            )
            await self._audit.record(
                AuditAction.DOMAIN_VERIFICATION_LAPSE,
                **who,
                target=domain.domain,
                details={"reason": reason},
            )
        return lapsed
