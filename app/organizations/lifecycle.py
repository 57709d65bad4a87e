"""The organization's state machine: creating, renaming, moving and deleting it (at once, or
into the trash, to be restored or purged), each begun, finished and, when it fails, undone here.

Each operation is a sequence of steps over several collections that MongoDB cannot commit
atomically without a replica set. The registry records the operation before it starts
(`LifecycleState`), identifier claims keep collection names exclusive throughout, and a step
that fails undoes the steps before it. Each operation has a step after which it is in effect
(the registry switches, or marks the organization deleted); a failure before it is undone
and answered as a failure, what remains after it is finished and the operation answered as
done. Undoing and finishing steps are idempotent, and tried again when the database fails
them for a passing reason (`app.db.retry`), so the same code serves the request that starts
an operation and the recovery that completes it after a crash. Between steps the lifecycle
passes a named checkpoint; production ignores them, tests use them to stop an operation at
every boundary.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import anyio

from app.accounts.memberships import MembershipRepository
from app.accounts.models import Account
from app.accounts.repository import AccountRepository
from app.apikeys.repository import ApiKeyRepository
from app.config import Settings
from app.db.retry import again
from app.db.store import Store, TenantNamespace
from app.domains.repository import DomainRepository, JoinRequestRepository
from app.errors import AppError, ServiceUnavailable
from app.invitations.repository import InvitationRepository
from app.organizations.belongings import Belongings
from app.registry.claims import IdentifierClaims
from app.registry.errors import (
    AlreadyInDatabase,
    OperationInProgress,
    OrganizationNameTaken,
    TargetOccupied,
)
from app.registry.models import (
    LifecycleState,
    Organization,
    PendingMove,
    PendingRename,
    Trash,
)
from app.registry.repository import DuplicateOrganization, OrganizationRepository
from app.registry.tenants import MoveStrategy, RenameResult, TenantCollections
from app.registry.write_leases import WriteLeases
from app.roles.repository import RoleRepository
from app.webhooks.dormancy import OrganizationWebhooks
from app.webhooks.repository import DeliveryRepository, EndpointRepository
from app.workspaces.access import WorkspaceAccess

logger = logging.getLogger(__name__)

Checkpoint = Callable[[str], Awaitable[None]]


class RenameRefused(AppError):
    """The server refused renameCollection and the configured strategy forbids copying."""

    code = "rename_refused"
    detail = "The database refused to move the tenant collection; nothing was changed"


class CreateUndone(ServiceUnavailable):
    """Recovery judged a slow create abandoned and rolled it back while it ran."""

    code = "create_undone"
    detail = "The request took too long and was undone; try again"


async def no_checkpoint(_: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class NewOwner:
    """The account a create makes for its owner; hashed only once the name is claimed."""

    email: str
    password_hash: Callable[[], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class RenameDone:
    """A rename in effect: the documents in the new collection, and how the collection
    moved: `renamed` (renameCollection), `copied`, or `resumed` (moved by an earlier
    attempt)."""

    documents: int
    how: str


@dataclass(frozen=True, slots=True)
class MoveOutcome:
    move: PendingMove
    documents: int
    resumed: bool


class Lifecycle:
    def __init__(
        self,
        store: Store,
        organizations: OrganizationRepository,
        claims: IdentifierClaims,
        belongings: Belongings,
        tenants: TenantCollections,
        *,
        move_strategy: MoveStrategy = MoveStrategy.AUTO,
        checkpoint: Checkpoint = no_checkpoint,
        write_leases: WriteLeases | None = None,
        drain_seconds: float = 10,
    ) -> None:
        self.store = store
        self.organizations = organizations
        self.claims = claims
        self._belongings = belongings
        self.tenants = tenants
        self._move_strategy = move_strategy
        self.checkpoint = checkpoint
        self._write_leases = write_leases
        self._drain_seconds = drain_seconds

    @classmethod
    def configured(
        cls, store: Store, settings: Settings, checkpoint: Checkpoint = no_checkpoint
    ) -> "Lifecycle":
        """The lifecycle with its repositories on `store`, as the settings configure it."""
        return cls(
            store,
            OrganizationRepository(store),
            IdentifierClaims(store),
            Belongings(
                AccountRepository(store),
                MembershipRepository(store),
                InvitationRepository(store),
                WorkspaceAccess(store),
                ApiKeyRepository(store),
                RoleRepository(store),
                OrganizationWebhooks(
                    EndpointRepository(store),
                    DeliveryRepository(store, timedelta(days=settings.webhook_retention_days)),
                    lambda: datetime.now(UTC),
                ),
                DomainRepository(store),
                JoinRequestRepository(store),
            ),
            TenantCollections(store, copy_batch_size=settings.tenant_copy_batch_size),
            move_strategy=MoveStrategy(settings.tenant_move_strategy),
            checkpoint=checkpoint,
            write_leases=WriteLeases(store),
            drain_seconds=settings.rename_drain_seconds,
        )

    async def create(self, organization: Organization, new_owner: NewOwner | None) -> None:
        """Claim the identifier, register the organization (PROVISIONING), seat its owner,
        create the tenant collection, then make it ACTIVE; undo it all if a step fails."""
        if not await self.claims.claim(organization.identifier, organization.id):
            raise OrganizationNameTaken()
        owns_collection = False
        try:
            await self.checkpoint("create.claimed")
            account = None
            if new_owner is not None:
                account = Account(
                    id=organization.admin_id,
                    email=new_owner.email,
                    password_hash=await new_owner.password_hash(),
                    organization_id=organization.id,
                    created_at=organization.created_at,
                )
            try:
                await self.organizations.insert(organization)
            except DuplicateOrganization:
                raise OrganizationNameTaken() from None
            await self.checkpoint("create.registered")
            await self._belongings.seat_owner(organization, account)
            await self.checkpoint("create.owner_added")
            # The claim makes the name this organization's: a collection by that name is
            # created here, or adopted when an earlier attempt left it empty.
            owns_collection = True
            await self.tenants.create(organization.namespace)
            await self.checkpoint("create.collection_created")
            if not await self.organizations.set_state(
                organization.id, LifecycleState.PROVISIONING, LifecycleState.ACTIVE
            ):
                # Recovery judged this create abandoned and rolled it back.
                raise CreateUndone()
        except BaseException:
            with anyio.CancelScope(shield=True):
                try:
                    await again(
                        lambda: self.undo_create(organization, owns_collection=owns_collection)
                    )
                except Exception:
                    logger.exception(
                        "could not undo the failed creation of organization %s; "
                        "recovery will finish it",
                        organization.id,
                    )
            raise

    async def rename(self, current: Organization, target: PendingRename) -> RenameDone:
        """Rename to `target`, moving the collection; rolled back if it fails before the
        registry switches, finished if it switched."""
        await self._begin_rename(current, target)
        try:
            return await self.finish_rename(current, target)
        except BaseException as failure:
            with anyio.CancelScope(shield=True):
                try:
                    finished = await again(lambda: self.roll_back_rename(current, target))
                except Exception:
                    logger.exception(
                        "could not roll back the rename of organization %s; recovery will",
                        current.id,
                    )
                    raise failure from None
            if finished is None or not isinstance(failure, Exception):
                raise
            return finished

    async def move(self, organization: Organization, target: str) -> MoveOutcome:
        """Move the collection to database `target`, or resume that move if it was
        interrupted; rolled back if it fails before the registry switches."""
        move = organization.pending_move
        resumed = organization.state is LifecycleState.MOVING
        if resumed and move is not None and self.store.resolve_database(move.target) == target:
            current = organization
        elif organization.state is not LifecycleState.ACTIVE:
            raise OperationInProgress(organization.name, organization.state.value)
        else:
            organization = await self._begin_move(organization, target)
            current, move = organization, None
        # A move stopped here is recorded, and resumes when run again.
        await self.checkpoint("move.recorded")
        try:
            if move is None:
                current, move = await self._recorded_move(organization)
            documents = await self.finish_move(current, move)
        except BaseException as failure:
            with anyio.CancelScope(shield=True):
                finished = await again(lambda: self.roll_back_move(organization))
            if finished is None or move is None or not isinstance(failure, Exception):
                raise
            documents = finished
        return MoveOutcome(move, documents, resumed)

    async def delete(self, organization: Organization) -> None:
        """Mark the organization deleting (from then on the delete is in effect), then remove
        its data; a step that keeps failing is left to recovery."""
        await self._begin_delete(organization)
        with anyio.CancelScope(shield=True):
            await self.finish_delete(organization)

    async def trash(self, organization: Organization, trash: Trash) -> Organization:
        """Soft delete: hide the organization (from then on its tokens are refused), then
        move its collection into the trash (`trash.collection`, same database) and mark it
        DELETED. Members, workspaces and the identifier claim stay as they are. Undone (the
        organization visible again) if it fails while the collection is still in place."""
        if not await self.organizations.begin_trash(organization, trash):
            raise OperationInProgress()
        trashed = replace(organization, state=LifecycleState.TRASHING, trash=trash)
        await self.checkpoint("trash.marked")
        await self.settle_trash(trashed)
        return replace(trashed, state=LifecycleState.DELETED)

    async def settle_trash(self, organization: Organization) -> None:
        """Finish a recorded soft delete, or undo it if it fails before the collection moved
        (raising the failure then)."""
        try:
            await self.finish_trash(organization)
        except BaseException as failure:
            with anyio.CancelScope(shield=True):
                try:
                    finished = await again(lambda: self.roll_back_trash(organization))
                except Exception:
                    logger.exception(
                        "could not roll back the soft delete of organization %s; recovery will",
                        organization.id,
                    )
                    raise failure from None
            if not finished or not isinstance(failure, Exception):
                raise

    async def finish_trash(self, organization: Organization) -> None:
        trash = organization.trash_namespace
        if trash is None:
            raise OperationInProgress()
        await self._belongings.webhooks.hold(organization.id)
        await self._drain_writes(organization)
        if await self.tenants.exists(organization.namespace):
            await self._relocate(organization.namespace, trash)
            await self.checkpoint("trash.moved")
        await self.organizations.set_state(
            organization.id, LifecycleState.TRASHING, LifecycleState.DELETED
        )
        await self.checkpoint("trash.settled")

    async def roll_back_trash(self, organization: Organization) -> bool:
        """Back to ACTIVE while the collection is where it was; True when the soft delete is
        in effect after all (the collection had moved: it is finished instead)."""
        current = await self.organizations.get(organization.id)
        if current is None or current.state is not LifecycleState.TRASHING:
            return current is not None and current.state is LifecycleState.DELETED
        trash = current.trash_namespace
        if trash is not None and not await self.tenants.exists(current.namespace):
            await self.finish_trash(current)
            return True
        if trash is not None:
            # The trash name is this organization's alone (it holds its id): anything there
            # while the collection is still in place is this attempt's partial copy.
            await self.tenants.drop(trash)
        await self._belongings.webhooks.release(organization.id)
        await self.organizations.leave_trash(organization.id, LifecycleState.TRASHING)
        return False

    async def restore(self, organization: Organization) -> Organization:
        """Bring a soft-deleted organization back: its collection renamed back from the
        trash with every document and index, then ACTIVE. Undone (DELETED again) if it fails
        while the collection is still in the trash."""
        if not await self.organizations.set_state(
            organization.id, LifecycleState.DELETED, LifecycleState.RESTORING
        ):
            raise OperationInProgress()
        await self.checkpoint("restore.marked")
        await self.settle_restore(organization)
        return replace(organization, state=LifecycleState.ACTIVE, trash=None)

    async def settle_restore(self, organization: Organization) -> None:
        try:
            await self.finish_restore(organization)
        except BaseException as failure:
            with anyio.CancelScope(shield=True):
                try:
                    finished = await again(lambda: self.roll_back_restore(organization))
                except Exception:
                    logger.exception(
                        "could not roll back the restore of organization %s; recovery will",
                        organization.id,
                    )
                    raise failure from None
            if not finished or not isinstance(failure, Exception):
                raise

    async def finish_restore(self, organization: Organization) -> None:
        trash = organization.trash_namespace
        if trash is not None and await self.tenants.exists(trash):
            await self._relocate(trash, organization.namespace)
            await self.checkpoint("restore.moved")
        # The collection is back, so the restore is in effect: the endpoints wake up.
        await self._belongings.webhooks.release(organization.id)
        await self.organizations.leave_trash(organization.id, LifecycleState.RESTORING)
        await self.checkpoint("restore.settled")

    async def roll_back_restore(self, organization: Organization) -> bool:
        """Back to DELETED while the collection is still in the trash; True when the restore
        is in effect after all (the collection is back: it is finished instead)."""
        current = await self.organizations.get(organization.id)
        if current is None or current.state is not LifecycleState.RESTORING:
            return current is not None and current.state is LifecycleState.ACTIVE
        trash = current.trash_namespace
        if trash is None or not await self.tenants.exists(trash):
            await self.finish_restore(current)
            return True
        # While the organization is deleted nothing writes under its claimed name: a
        # collection there now is this attempt's partial copy.
        await self.tenants.drop(current.namespace)
        await self.organizations.set_state(
            organization.id, LifecycleState.RESTORING, LifecycleState.DELETED
        )
        return False

    async def purge(self, organization: Organization, due_by: datetime | None = None) -> bool:
        """Delete a soft-deleted organization for good (its trashed collection, belongings,
        entry, claim); with `due_by`, only if its retention period ended by then. False when
        it is no longer DELETED (restored, or purged by someone else)."""
        if not await self.organizations.begin_purge(organization.id, due_by):
            return False
        await self.checkpoint("purge.marked")
        with anyio.CancelScope(shield=True):
            await self.finish_delete(organization)
        return True

    async def _begin_rename(self, current: Organization, target: PendingRename) -> None:
        """Claim the new identifier and record the rename; nothing is left if either fails."""
        if not await self.claims.claim(target.identifier, current.id):
            raise OrganizationNameTaken()
        try:
            await self.checkpoint("rename.claimed")
            if not await self.organizations.begin_rename(current, target):
                raise OperationInProgress()
            await self.checkpoint("rename.recorded")
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.claims.release(target.identifier, current.id)
            raise

    async def _begin_move(self, organization: Organization, target: str) -> Organization:
        """Record a move of the collection to database `target`; the entry as it was before
        (named database) — read it as recorded with `_recorded_move`."""
        store = self.store
        if store.resolve(organization.namespace).database == target:
            raise AlreadyInDatabase(organization.name, target)
        if not organization.tenant_database:
            # Recorded before placement: name its database first, so that both ends of the
            # move are named in the registry whatever the service's start-up writes meanwhile.
            await self.organizations.record_default_database(store.default_tenant_db)
            organization = await self.organizations.get(organization.id) or organization
        destination = TenantNamespace(target, organization.tenant_collection)
        if await self.tenants.exists(destination) and not await self.tenants.is_empty(destination):
            raise TargetOccupied(destination)
        if not await self.organizations.begin_move(organization, target):
            raise OperationInProgress(organization.name, "changing")
        return organization

    async def _recorded_move(self, organization: Organization) -> tuple[Organization, PendingMove]:
        current = await self.organizations.get(organization.id)
        if current is None or current.pending_move is None:
            raise OperationInProgress(organization.name, "gone")
        return current, current.pending_move

    async def _begin_delete(self, organization: Organization) -> None:
        """Mark the organization deleting: from then on it is invisible and its tokens are
        refused, and if a later step fails, recovery finishes the delete."""
        if not await self.organizations.set_state(
            organization.id, LifecycleState.ACTIVE, LifecycleState.DELETING
        ):
            raise OperationInProgress()
        await self.checkpoint("delete.marked")

    async def undo_create(
        self, organization: Organization, *, owns_collection: bool = True
    ) -> None:
        """Remove whatever an unfinished create left: collection, owner, registry entry, claim.

        `owns_collection` is False when the create failed before it made (or adopted) the
        collection: one by that name then belongs to someone else and stays.
        """
        namespace = organization.namespace
        if owns_collection and await self.tenants.exists(namespace):
            if await self.tenants.is_empty(namespace):
                await self.tenants.drop(namespace)
            else:  # cannot happen through the API; never destroy documents to tidy up
                logger.error(
                    "unfinished organization %s: %s holds documents, left in place",
                    organization.id,
                    namespace,
                )
        await self._belongings.remove_owner(organization)
        # Released right after the entry goes; marked first so that recovery finds the claim
        # if the release never comes (see `IdentifierClaims`).
        await self.claims.unsettle(organization.identifier, organization.id)
        await self.organizations.delete(organization.id)
        await self.claims.release(organization.identifier, organization.id)

    async def finish_rename(self, organization: Organization, target: PendingRename) -> RenameDone:
        """Move the collection, point the registry at it, release the old identifier."""
        source = organization.namespace
        destination = organization.namespace_of(target.tenant_collection)
        await self._drain_writes(organization)
        how = "resumed"
        if await self.tenants.exists(source):
            how = await self._move(organization, target)
            await self.checkpoint("rename.moved")
        documents = await self.tenants.count(destination)
        # The old identifier's claim is released once the registry has switched; marked first
        # so that recovery finds it if the release never comes.
        await self.claims.unsettle(organization.identifier, organization.id)
        await self.organizations.complete_rename(organization.id, target)
        await self.checkpoint("rename.switched")
        await self._tidy_after_rename(organization)
        return RenameDone(documents, how)

    async def _tidy_after_rename(self, organization: Organization) -> None:
        # Only the copy leaves a source behind; it goes once nothing points at it any more.
        await again(lambda: self.tenants.drop(organization.namespace))
        await self.checkpoint("rename.source_dropped")
        await again(lambda: self.claims.release(organization.identifier, organization.id))

    async def roll_back_rename(
        self, organization: Organization, target: PendingRename | None = None
    ) -> RenameDone | None:
        """Return to the old name while the old collection is intact; otherwise finish.

        None when the rename is undone; what was done when it is in effect after all (the
        collection had already moved, or the registry had switched to `target`).
        """
        current = await self.organizations.get(organization.id)
        if current is None:
            return None
        if current.state is not LifecycleState.RENAMING:
            if target is None or current.tenant_collection != target.tenant_collection:
                return None
            await self._tidy_after_rename(organization)
            return RenameDone(await self.tenants.count(current.namespace), "resumed")
        pending = current.pending_rename
        if pending is None:
            await self.organizations.abandon_rename(organization.id)
            return None
        if not await self.tenants.exists(current.namespace):
            return await self.finish_rename(current, pending)
        if pending.copying:
            await self.tenants.drop(current.namespace_of(pending.tenant_collection))
        await self.organizations.abandon_rename(organization.id)
        await self.claims.release(pending.identifier, organization.id)
        return None

    async def finish_move(self, organization: Organization, move: PendingMove) -> int:
        """Copy the collection to the target database, point the registry at the copy, drop
        the source. Returns the number of documents in the moved collection."""
        source = TenantNamespace(move.source, organization.tenant_collection)
        target = TenantNamespace(move.target, organization.tenant_collection)
        await self._drain_writes(organization)
        current = await self.organizations.get(organization.id)
        if current is None or current.state is not LifecycleState.MOVING:
            raise OperationInProgress()
        if self._placed_in(current, move.source):
            if not move.copying:
                await self.organizations.mark_move_copying(organization.id)

            async def progress(copied: int) -> None:
                await self.organizations.touch(organization.id)
                await self.checkpoint("move.copy_batch")

            copied = await self.tenants.copy(source, target, progress)
            logger.info("organization %s: copied %d documents to %s", current.id, copied, target)
            await self.checkpoint("move.copied")
            await self.organizations.switch_database(organization.id, move)
            await self.checkpoint("move.switched")
            current = await again(lambda: self.organizations.get(organization.id))
        if current is None or not self._placed_in(current, move.target):
            # The registry points at neither end: drop nothing, leave it for an operator.
            raise OperationInProgress()
        await again(lambda: self.tenants.drop(source))
        await self.checkpoint("move.source_dropped")
        await again(lambda: self.organizations.end_move(organization.id))
        return await again(lambda: self.tenants.count(target))

    async def roll_back_move(self, organization: Organization) -> int | None:
        """Stay in the source database while the registry points there; otherwise finish.

        None when the move is undone (or was not under way); the number of documents moved
        when it is in effect after all.
        """
        current = await self.organizations.get(organization.id)
        if current is None or current.state is not LifecycleState.MOVING:
            return None
        move = current.pending_move
        if move is None:
            await self.organizations.end_move(organization.id)
            return None
        if self._placed_in(current, move.target):
            return await self.finish_move(current, move)
        # Before the switch, a collection under this name in the target database can only be
        # this move's copy: the name is the organization's (identifier claims) and a move
        # refuses to start over one that holds documents.
        await self.tenants.drop(TenantNamespace(move.target, current.tenant_collection))
        await self.organizations.end_move(organization.id)
        return None

    async def finish_delete(self, organization: Organization) -> None:
        # Webhook endpoints first: from here on they are sent only the delete and the purge.
        await again(lambda: self._belongings.webhooks.retire(organization.id))
        await again(lambda: self.tenants.drop(organization.namespace))
        await self.checkpoint("delete.collection_dropped")
        trash = organization.trash_namespace
        if trash is not None:
            await again(lambda: self.tenants.drop(trash))
            await self.checkpoint("delete.trash_dropped")
        await again(lambda: self._belongings.remove_all(organization))
        await self.checkpoint("delete.accounts_deleted")
        await again(lambda: self.claims.unsettle(organization.identifier, organization.id))
        await again(lambda: self.organizations.delete(organization.id))
        await self.checkpoint("delete.registry_deleted")
        await again(lambda: self.claims.release(organization.identifier, organization.id))

    def _placed_in(self, organization: Organization, database: str) -> bool:
        resolve = self.store.resolve_database
        return resolve(organization.tenant_database) == resolve(database)

    async def _drain_writes(self, organization: Organization) -> None:
        if self._write_leases is not None:
            # The registry already records the operation, so no new write starts; wait for
            # the ones under way.
            await self._write_leases.wait_until_drained(organization.id, self._drain_seconds)

    async def _relocate(self, source: TenantNamespace, target: TenantNamespace) -> None:
        """Move a collection inside its database for the trash (or back): renameCollection,
        or where the server refuses it and the strategy allows, a resumable copy and the
        source dropped. A `target` beside its `source` is an earlier attempt's partial copy
        (both names are the organization's alone): the copy goes on."""
        partial_copy = await self.tenants.exists(target)
        if not partial_copy and self._move_strategy is not MoveStrategy.COPY:
            if await self.tenants.try_rename(source, target) is RenameResult.MOVED:
                return
            if self._move_strategy is MoveStrategy.RENAME:
                raise RenameRefused()
        copied = await self.tenants.copy(source, target)
        logger.info("copied %d documents from %s into %s", copied, source, target)
        await self.tenants.drop(source)

    async def _move(self, organization: Organization, target: PendingRename) -> str:
        """Move the collection for a rename; how it moved (`renamed` or `copied`)."""
        source = organization.namespace
        destination = organization.namespace_of(target.tenant_collection)
        if not target.copying and self._move_strategy is not MoveStrategy.COPY:
            if await self.tenants.try_rename(source, destination) is RenameResult.MOVED:
                return "renamed"
            if self._move_strategy is MoveStrategy.RENAME:
                raise RenameRefused()
        if not target.copying:
            await self.organizations.mark_copying(organization.id)

        async def progress(copied: int) -> None:
            await self.organizations.touch(organization.id)
            await self.checkpoint("rename.copy_batch")

        copied = await self.tenants.copy(source, destination, progress)
        logger.info(
            "organization %s: copied %d documents into %s", organization.id, copied, destination
        )
        return "copied"
