"""Completing or rolling back operations that a crash interrupted.

Run at start-up and then periodically (`RECOVERY_INTERVAL_SECONDS`). Only operations that
have made no progress for the grace period are touched, so an operation still running in
another instance is left alone.

- PROVISIONING: the creator never got its 201, so the organization is rolled back.
- RENAMING: the new identifier is claimed and recorded, so the rename is finished.
- MOVING: an operator asked for it and the copy is resumable, so the move is finished.
- DELETING: the caller asked for it and tokens are already refused, so the delete is finished.
- TRASHING, RESTORING: an owner asked for it, so the soft delete or restore is finished (or
  undone where the collection cannot move).
- A claim no organization accounts for is released, after its leftover collection (the source
  of a copied rename) is dropped when that is provably safe.

Each sweep reads only what is under way: organizations in a state other than ACTIVE, and the
claims marked unsettled (`app.registry.claims`), both through their indexes. With nothing
under way that is two commands, whatever the size of the registry. A claim whose active
organization holds it is marked settled and not read again until a delete or rename marks
it unsettled again.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from app.db.naming import tenant_collection_for
from app.db.store import TenantNamespace
from app.kit.stopping import step
from app.organizations.lifecycle import Lifecycle
from app.registry.models import LifecycleState, Organization

logger = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    rolled_back_creates: list[str] = field(default_factory=list)
    finished_renames: list[str] = field(default_factory=list)
    finished_moves: list[str] = field(default_factory=list)
    finished_deletes: list[str] = field(default_factory=list)
    finished_trashings: list[str] = field(default_factory=list)
    finished_restores: list[str] = field(default_factory=list)
    released_claims: list[str] = field(default_factory=list)
    needs_operator: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return any(
            (
                self.rolled_back_creates,
                self.finished_renames,
                self.finished_moves,
                self.finished_deletes,
                self.finished_trashings,
                self.finished_restores,
                self.released_claims,
            )
        )


class LifecycleRecovery:
    def __init__(self, lifecycle: Lifecycle) -> None:
        self._lifecycle = lifecycle

    async def run(self, grace: timedelta) -> RecoveryReport:
        report = RecoveryReport()
        cutoff = datetime.now(UTC) - grace
        unsettled = await self._lifecycle.organizations.list_unsettled(cutoff)
        for organization_id, organization in unsettled:
            try:
                if organization is None:
                    raise ValueError("unreadable registry entry")
                await self._settle(organization, report)
            except Exception:
                # One organization that cannot be settled must not keep the others (or the
                # service's start) waiting; an operator has to look at it.
                logger.exception("recovery: cannot settle organization %s", organization_id)
                report.needs_operator.append(f"organization {organization_id}")
        claims = await self._lifecycle.claims.unsettled_before(cutoff)
        await self._lifecycle.claims.settle(claims.settled)
        for identifier, organization_id, since in claims.unaccounted:
            try:
                await self._check_claim(identifier, organization_id, since, report)
            except Exception:
                logger.exception("recovery: cannot check claim %s", identifier)
                report.needs_operator.append(f"claim {identifier}")
        if report.changed_anything or report.needs_operator:
            logger.warning("recovery: %s", report)
        return report

    async def _settle(self, organization: Organization, report: RecoveryReport) -> None:
        lifecycle = self._lifecycle
        label = f"{organization.id} ({organization.name})"
        if organization.state is LifecycleState.PROVISIONING:
            await lifecycle.undo_create(organization)
            report.rolled_back_creates.append(label)
        elif organization.state is LifecycleState.RENAMING and organization.pending_rename:
            await lifecycle.finish_rename(organization, organization.pending_rename)
            report.finished_renames.append(label)
        elif organization.state is LifecycleState.RENAMING:
            await lifecycle.organizations.abandon_rename(organization.id)
            report.finished_renames.append(label)
        elif organization.state is LifecycleState.MOVING and organization.pending_move:
            await lifecycle.finish_move(organization, organization.pending_move)
            report.finished_moves.append(label)
        elif organization.state is LifecycleState.MOVING:
            await lifecycle.organizations.end_move(organization.id)
            report.finished_moves.append(label)
        elif organization.state is LifecycleState.DELETING:
            await lifecycle.finish_delete(organization)
            report.finished_deletes.append(label)
        elif organization.state is LifecycleState.TRASHING:
            await lifecycle.settle_trash(organization)
            report.finished_trashings.append(label)
        elif organization.state is LifecycleState.RESTORING:
            await lifecycle.settle_restore(organization)
            report.finished_restores.append(label)

    async def _check_claim(
        self,
        identifier: str,
        organization_id: ObjectId,
        since: datetime | None,
        report: RecoveryReport,
    ) -> None:
        lifecycle = self._lifecycle
        organization = await lifecycle.organizations.get(organization_id)
        if organization is not None and identifier in _identifiers_of(organization):
            # Held after all: the entry changed after the sweep's read, or the store's join
            # missed it. Settled like the others once it is its active organization's own,
            # so that the next sweeps do not read it again.
            if (
                organization.state is LifecycleState.ACTIVE
                and organization.pending_rename is None
                and organization.identifier == identifier
            ):
                await lifecycle.claims.settle([(identifier, since)])
            return
        collection = tenant_collection_for(identifier)
        if await lifecycle.organizations.holders_of(collection):
            # The claim is stale but its collection is some organization's live data (its
            # identifier was edited by hand): never touch it; let an operator sort it out.
            report.needs_operator.append(f"{collection} (claim {identifier}, in use)")
            return
        leftovers = [
            TenantNamespace(database, collection)
            for database in await self._databases(organization)
        ]
        for leftover in leftovers:
            if await self._holds_documents(leftover) and not await self._is_copied_source(
                leftover, organization
            ):
                report.needs_operator.append(f"{leftover} (claim {identifier})")
                return
        for leftover in leftovers:
            await lifecycle.tenants.drop(leftover)
        await lifecycle.claims.release(identifier, organization_id)
        report.released_claims.append(identifier)

    async def _databases(self, holder: Organization | None) -> list[str]:
        """Every tenant database a leftover may be in: renames stay in the holder's
        database, but the holder may have moved since, or be gone."""
        recorded = await self._lifecycle.organizations.databases_in_use()
        names = {*self._lifecycle.store.tenant_pool, *recorded}
        if holder is not None:
            names.add(holder.tenant_database)
        return sorted(names)

    async def _holds_documents(self, namespace: TenantNamespace) -> bool:
        tenants = self._lifecycle.tenants
        return await tenants.exists(namespace) and not await tenants.is_empty(namespace)

    async def _is_copied_source(
        self, namespace: TenantNamespace, holder: Organization | None
    ) -> bool:
        """True when the claim holder has moved on to a collection at least as full."""
        if holder is None or holder.state is not LifecycleState.ACTIVE:
            return False
        tenants = self._lifecycle.tenants
        return await tenants.count(holder.namespace) >= await tenants.count(namespace)


async def recover_periodically(
    recovery: LifecycleRecovery, grace: timedelta, interval: timedelta
) -> None:
    """Sweep for interrupted operations every `interval`, for as long as the service runs."""
    while True:
        await asyncio.sleep(interval.total_seconds())
        try:
            await step(recovery.run(grace))
        except Exception:
            logger.exception("recovery sweep failed; retrying in %s", interval)


def _identifiers_of(organization: Organization) -> set[str]:
    identifiers = {organization.identifier}
    if organization.pending_rename:
        identifiers.add(organization.pending_rename.identifier)
    return identifiers
