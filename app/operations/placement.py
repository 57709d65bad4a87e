"""Moving tenant collections between databases, and planning moves that even out the pool.

A move keeps the collection's name and copies it into the target database with the same
resumable, verified copy a rename falls back to (`renameCollection` across databases is a
copy too, and sharded clusters refuse it when the databases' primary shards differ). The
registry records the move before anything is copied, so a move interrupted at any point is
finished by the service's recovery, by `repair`, or by running the same move again.
"""

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pymongo.errors import PyMongoError

from app.config import (
    Settings,
    case_variant_among,
    is_reserved_database,
    is_valid_database_name,
)
from app.db.store import Store, TenantNamespace
from app.events.catalogue import EventType
from app.events.models import OPERATOR
from app.events.subjects import organization_data, organization_event_subject
from app.operations.errors import UnacceptableInput
from app.operations.organizations import resolve_organization
from app.operations.outbox import build_outbox
from app.operations.transfer import Progress
from app.organizations.lifecycle import Checkpoint, Lifecycle, no_checkpoint
from app.registry.models import LifecycleState, Organization
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCollections


@dataclass(frozen=True, slots=True)
class MoveResult:
    organization: str
    collection: str
    source: str
    target: str
    documents: int
    resumed: bool
    in_pool: bool


async def move_organization(
    store: Store,
    settings: Settings,
    reference: str,
    target: str,
    *,
    checkpoint: Checkpoint = no_checkpoint,
    progress: Progress | None = None,
) -> MoveResult:
    """Move the organization's tenant collection to database `target`.

    Run again after an interruption, the same move resumes where it stopped. Writes to the
    organization's documents answer 503 while it runs; reads keep working. `progress` hears
    how far the copy has come.
    """
    if (
        not is_valid_database_name(target)
        or is_reserved_database(target)
        or target.casefold() == store.master.name.casefold()
    ):
        raise UnacceptableInput(f"{target!r} cannot hold tenant collections")
    known = {store.master.name, store.default_tenant_db, *store.tenant_pool}
    variant = case_variant_among(target, known | set(await store.client.list_database_names()))
    if variant is not None:
        raise UnacceptableInput(
            f"{target!r} differs from the database {variant!r} only in case, which MongoDB "
            "refuses; name the existing one exactly or choose another name"
        )
    organization = await resolve_organization(store, settings, reference)
    lifecycle = Lifecycle.configured(store, settings, checkpoint)
    async with _announcing(store, settings, organization, target):
        if progress is None:
            outcome = await lifecycle.move(organization, target)
        else:
            copy = TenantNamespace(target, organization.tenant_collection)
            async with _watching_copy(store, organization.namespace, copy, progress):
                outcome = await lifecycle.move(organization, target)
    return MoveResult(
        organization=organization.name,
        collection=organization.tenant_collection,
        source=store.resolve_database(outcome.move.source),
        target=target,
        documents=outcome.documents,
        resumed=outcome.resumed,
        in_pool=target in store.tenant_pool,
    )


@contextlib.asynccontextmanager
async def _announcing(
    store: Store, settings: Settings, organization: Organization, target: str
) -> AsyncIterator[None]:
    """Record `organization.moved` with the move. A move being resumed already has its
    event pending from the run that began it, settled by recovery once the move is done."""
    if organization.state is not LifecycleState.ACTIVE:
        yield
        return
    async with build_outbox(settings, store).recording(
        EventType.ORGANIZATION_MOVED,
        organization.id,
        OPERATOR,
        {
            **organization_data(organization),
            "previous_database": store.resolve_database(organization.tenant_database),
            "database": target,
        },
        organization_event_subject(organization.id, tenant_database=target),
    ):
        yield


@contextlib.asynccontextmanager
async def _watching_copy(
    store: Store, source: TenantNamespace, copy: TenantNamespace, progress: Progress
) -> AsyncIterator[None]:
    """Report the copy's size against the source's while the move runs.

    Both counts come from collection metadata (`estimatedDocumentCount`), so watching costs
    the server next to nothing; a count that fails only leaves the bar where it was.
    """
    progress.phase("counting documents")
    try:
        total: int | None = await store.collection(source).estimated_document_count()
    except PyMongoError:
        total = None
    progress.phase("copying documents", total)

    async def watch() -> None:
        reported = 0
        while True:
            await asyncio.sleep(_WATCH_SECONDS)
            with contextlib.suppress(PyMongoError):
                copied = await store.collection(copy).estimated_document_count()
                if total is not None:
                    copied = min(copied, total)
                if copied > reported:
                    progress.advance(copied - reported)
                    reported = copied

    watcher = asyncio.create_task(watch())
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


_WATCH_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class ProposedMove:
    organization_id: str
    organization: str
    collection: str
    source: str
    target: str
    documents: int
    reason: str


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    pool: list[str]
    before: dict[str, int]
    after: dict[str, int]
    tolerance: int
    moves: list[ProposedMove] = field(default_factory=list)
    # Organizations in an operation (not ACTIVE) are never proposed; how many were skipped.
    skipped_busy: int = 0


async def plan_rebalance(
    store: Store, settings: Settings, *, tolerance: int | None = None, limit: int = 0
) -> RebalancePlan:
    """Moves that bring every pool database within `tolerance` tenant collections of the
    others, cheapest (fewest documents) first, after draining databases outside the pool.

    `tolerance` defaults to 5% of the mean (at least 1); `limit` caps the moves (0: none).
    """
    organizations = OrganizationRepository(store)
    pool = list(store.tenant_pool)
    recorded: dict[str, int] = {}
    for name, count in (await organizations.collections_per_database()).items():
        key = store.resolve_database(name)
        recorded[key] = recorded.get(key, 0) + count
    counts = {name: recorded.get(name, 0) for name in pool}
    before = {**recorded, **counts}
    total = sum(recorded.values())
    if tolerance is None:
        tolerance = max(1, math.ceil(0.05 * total / len(pool)))
    planner = _Planner(store, organizations, counts, limit)

    for database in sorted(set(recorded) - set(pool)):
        await planner.take(database, recorded[database], "outside the pool")
    while not planner.full():
        fullest = max(counts, key=lambda name: (counts[name], name))
        emptiest = min(counts, key=lambda name: (counts[name], name))
        surplus = counts[fullest] - counts[emptiest]
        if surplus <= tolerance:
            break
        if not await planner.take(fullest, max(1, surplus // 2), "evens out the pool"):
            break
    after = dict(before)
    for move in planner.moves:
        after[move.source] -= 1
        after[move.target] = after.get(move.target, 0) + 1
    return RebalancePlan(
        pool, before, after, tolerance, planner.moves, skipped_busy=len(planner.busy)
    )


class _Planner:
    """Proposes moves one database at a time, keeping running counts of the pool."""

    def __init__(
        self,
        store: Store,
        organizations: OrganizationRepository,
        counts: dict[str, int],
        limit: int,
    ) -> None:
        self._store = store
        self._organizations = organizations
        self._counts = counts
        self._limit = limit
        self._tenants = TenantCollections(store)
        self._proposed: set[str] = set()
        self.moves: list[ProposedMove] = []
        self.busy: set[str] = set()

    def full(self) -> bool:
        return bool(self._limit) and len(self.moves) >= self._limit

    async def take(self, source: str, wanted: int, reason: str) -> bool:
        """Propose up to `wanted` moves out of `source`; False when none could be proposed."""
        candidates = await self._candidates(source, wanted)
        proposed = False
        for organization, documents in candidates[:wanted]:
            if self.full():
                break
            target = min(self._counts, key=lambda name: (self._counts[name], name))
            if target == source:
                break
            self._counts[target] += 1
            if source in self._counts:
                self._counts[source] -= 1
            self._proposed.add(str(organization.id))
            self.moves.append(
                ProposedMove(
                    organization_id=str(organization.id),
                    organization=organization.name,
                    collection=organization.tenant_collection,
                    source=source,
                    target=target,
                    documents=documents,
                    reason=reason,
                )
            )
            proposed = True
        return proposed

    async def _candidates(self, source: str, wanted: int) -> list[tuple[Organization, int]]:
        """The smallest settled organizations in `source` among a bounded sample: sizes come
        from collection metadata (`estimatedDocumentCount`), never from a scan."""
        sample = 0 if source not in self._counts else max(4 * wanted, 200)
        stored = "" if source == self._store.default_tenant_db else source
        found = await self._organizations.in_database(source, limit=sample)
        if stored != source:
            found += await self._organizations.in_database(stored, limit=sample)
        sized = []
        for organization in found:
            if str(organization.id) in self._proposed:
                continue
            if organization.state is not LifecycleState.ACTIVE:
                self.busy.add(str(organization.id))
                continue
            namespace = self._store.resolve(organization.namespace)
            documents = await self._store.collection(namespace).estimated_document_count()
            sized.append((organization, documents))
        sized.sort(key=lambda pair: (pair[1], str(pair[0].id)))
        return sized
