"""Settling what `verify` finds, within rules that never lose a tenant document by accident.

- Unfinished operations and orphan claims go to the service's own recovery
  (`LifecycleRecovery`), with no grace period: the operator asked for it now.
- A missing collection is created empty; a missing claim is taken again.
- An orphan collection is dropped when empty; one holding documents only with `force`,
  announced before it goes.
- A collection any organization points to (or is moving to) is never touched.
- What needs a human decision (names that break the rules, organizations without an owner,
  accounts without a membership, damaged entries) is reported, not guessed at.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bson import ObjectId

from app.config import Settings
from app.db.store import Store, TenantNamespace
from app.errors import AppError
from app.operations.registry import OperatorRegistry
from app.operations.tenant_catalog import TenantCatalog
from app.operations.verify import (
    Finding,
    Problem,
    VerificationReport,
    describe_duration,
    verify,
)
from app.organizations.lifecycle import Lifecycle, no_checkpoint
from app.organizations.recovery import LifecycleRecovery
from app.registry.claims import IdentifierClaims
from app.registry.models import LifecycleState
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCollections

Announce = Callable[[str], None]

_FORCED_DROP = "dropped with documents"

_BY_RECOVERY = (Problem.UNFINISHED_OPERATION, Problem.ORPHAN_CLAIM)
_MANUAL_HINTS = {
    Problem.NAME_MISMATCH: "fix the entry by hand; names must follow the naming rules",
    Problem.NO_OWNER: "give it one: python -m app.cli accounts create-owner ORG EMAIL",
    Problem.LONELY_ACCOUNT: "make it a member (accounts create-owner) or delete it by hand",
    Problem.DAMAGED_ENTRY: "repair or remove the registry entry by hand",
}


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    subject: str
    detail: str


@dataclass
class RepairOutcome:
    done: list[Step] = field(default_factory=list)
    left: list[Step] = field(default_factory=list)
    final: VerificationReport | None = None


def plan_repair(report: VerificationReport, *, force: bool, grace: timedelta) -> list[Step]:
    """What `repair` would do about each finding, without doing any of it."""
    blocked = _recovery_blockers(report)
    return [_planned(finding, force, grace, blocked) for finding in report.findings]


async def repair(
    store: Store, settings: Settings, *, force: bool, announce: Announce
) -> RepairOutcome:
    outcome = RepairOutcome()
    report = await verify(store)
    blocked = _recovery_blockers(report)
    if blocked:
        announce(f"recovery not run: {blocked}")
    elif report.of(*_BY_RECOVERY):
        await _recover(store, settings, outcome, announce)
        report = await verify(store)
    for finding in report.findings:
        step = await _settle(store, finding, force, announce)
        if step is not None:
            announce(f"{step.action}: {step.subject} ({step.detail})")
            outcome.done.append(step)
    forced = any(step.action == _FORCED_DROP for step in outcome.done)
    if forced and report.of(Problem.ORPHAN_CLAIM) and not blocked:
        # Claims recovery had to keep because their collection held documents can go now.
        await _recover(store, settings, outcome, announce)
    outcome.final = await verify(store)
    blocked = _recovery_blockers(outcome.final)
    outcome.left = [
        _planned(finding, force, timedelta(0), blocked) for finding in outcome.final.findings
    ]
    return outcome


def _recovery_blockers(report: VerificationReport) -> str:
    """Why recovery must not run now; empty when it may."""
    unsafe = [f for f in report.of(Problem.ORPHAN_CLAIM) if f.collection_in_use]
    return "; ".join(
        f"claim {finding.subject!r} names {finding.collection}, which an organization uses "
        "(recovery would drop it as a leftover): fix the registry entry first"
        for finding in unsafe
    )


def _planned(finding: Finding, force: bool, grace: timedelta, blocked: str) -> Step:
    problem, subject = finding.problem, finding.subject
    if problem in _BY_RECOVERY and blocked:
        return Step("needs an operator", subject, f"{finding.detail}; recovery blocked: {blocked}")
    if problem is Problem.UNFINISHED_OPERATION:
        detail = _settlement(finding)
        if finding.age is not None and finding.age < grace:
            detail += (
                f"; started only {describe_duration(finding.age)} ago: make sure no service "
                "instance is still running it"
            )
        return Step("settle", subject, detail)
    if problem is Problem.ORPHAN_CLAIM:
        return Step(
            "release claim",
            subject,
            f"recovery drops {finding.collection} first if it is empty or a proven copy, "
            "otherwise leaves both for an operator",
        )
    if problem is Problem.MISSING_CLAIM:
        return Step("claim", subject, f"claim {finding.identifier!r} for it again")
    if problem is Problem.MISSING_COLLECTION:
        return Step("create collection", subject, f"create {finding.collection} empty")
    if problem is Problem.ORPHAN_COLLECTION:
        if not finding.count:
            return Step("drop empty collection", subject, "empty, no organization uses it")
        if force:
            return Step(
                "drop collection WITH documents",
                subject,
                f"--force: {finding.count} document(s) will be lost",
            )
        return Step(
            "keep",
            subject,
            f"holds {finding.count} document(s); inspect it, then rerun with --force to drop it",
        )
    if problem is Problem.OWNER_COUNT:
        return Step("correct owner count", subject, f"set owner_count to {finding.count}")
    return Step("needs an operator", subject, f"{finding.detail}: {_MANUAL_HINTS[problem]}")


def _settlement(finding: Finding) -> str:
    if finding.state is LifecycleState.PROVISIONING:
        return "roll the create back (its client never got a 201)"
    if finding.state is LifecycleState.DELETING:
        return f"finish the delete: {finding.collection} and what only it owned go"
    if finding.state is LifecycleState.MOVING:
        return f"finish the move ({finding.detail})"
    return f"finish the rename ({finding.detail})"


async def _recover(
    store: Store, settings: Settings, outcome: RepairOutcome, announce: Announce
) -> None:
    recovery = LifecycleRecovery(Lifecycle.configured(store, settings, no_checkpoint))
    result = await recovery.run(timedelta(0))
    settled = [
        *(("settled", label, "create rolled back") for label in result.rolled_back_creates),
        *(("settled", label, "rename finished") for label in result.finished_renames),
        *(("settled", label, "move finished") for label in result.finished_moves),
        *(("settled", label, "delete finished") for label in result.finished_deletes),
        *(("released claim", claim, "no organization uses it") for claim in result.released_claims),
    ]
    for action, subject, detail in settled:
        announce(f"{action}: {subject} ({detail})")
        outcome.done.append(Step(action, subject, detail))


async def _settle(store: Store, finding: Finding, force: bool, announce: Announce) -> Step | None:
    """Act on one finding left after recovery; None when it is not this step's to settle."""
    if finding.problem is Problem.MISSING_CLAIM and finding.organization_id and finding.identifier:
        if await IdentifierClaims(store).claim(finding.identifier, finding.organization_id):
            return Step("claimed", finding.subject, finding.identifier)
    elif finding.problem is Problem.MISSING_COLLECTION and finding.organization_id:
        return await _create_missing(store, finding.organization_id, finding.subject)
    elif finding.problem is Problem.ORPHAN_COLLECTION and finding.collection:
        return await _drop_orphan(store, finding.collection, force, announce)
    elif finding.problem is Problem.OWNER_COUNT and finding.organization_id:
        organizations = OrganizationRepository(store)
        count = finding.count or 0
        if await organizations.correct_owner_count(
            finding.organization_id, finding.recorded, count
        ):
            return Step("corrected owner count", finding.subject, f"owner_count = {count}")
    return None


async def _create_missing(store: Store, organization_id: ObjectId, subject: str) -> Step | None:
    # Read again: only an organization still settled (and on the same collection) gets one.
    current = await OrganizationRepository(store).get(organization_id)
    if current is None or current.state is not LifecycleState.ACTIVE:
        return None
    try:
        await TenantCollections(store).create(current.namespace)
    except AppError:
        return None  # documents appeared under that name meanwhile; verify reports it
    return Step("created collection", subject, str(store.resolve(current.namespace)))


async def _drop_orphan(
    store: Store, collection: TenantNamespace, force: bool, announce: Announce
) -> Step | None:
    tenants = TenantCollections(store)
    # Checked again just before acting: an organization may have adopted it since the scan.
    if await OperatorRegistry(store).points_to(collection):
        return None
    if not await TenantCatalog(store).exists(collection):
        return None
    held = await tenants.count(collection)
    if held and not force:
        return None
    if held:
        announce(
            f"--force given: dropping orphan collection {collection} and its {held} document(s)"
        )
    await tenants.drop(collection)
    if held:
        return Step(_FORCED_DROP, str(collection), f"{held} document(s) removed")
    return Step("dropped empty collection", str(collection), "no organization used it")
