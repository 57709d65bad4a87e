"""`orgs move`, `orgs rebalance` and `capacity`."""

from typing import Annotated, Any

import typer

from app.cli.display import plain, progress_bar, table
from app.cli.runtime import (
    EXIT_PROBLEMS,
    JsonOption,
    Session,
    emit_json,
    err,
    out,
    quiet,
    run_with_store,
    status,
)
from app.operations.placement import (
    MoveResult,
    ProposedMove,
    RebalancePlan,
    move_organization,
    plan_rebalance,
)
from app.registry.capacity import CapacityReport, Level, measure


def move_command(
    ctx: typer.Context,
    organization: Annotated[str, typer.Argument(metavar="NAME_OR_ID")],
    to: Annotated[str, typer.Option("--to", help="The database to move the collection to.")],
    as_json: JsonOption = False,
) -> None:
    """Move an organization's tenant collection to another database.

    The collection keeps its name, documents, `_id`s and indexes. Writes to the organization's
    documents answer 503 while the copy runs; reads keep working. If the move is interrupted,
    run the same command again to finish it (the service's recovery also finishes it).
    """

    async def work(session: Session) -> MoveResult:
        with progress_bar(err(), quiet=quiet()) as progress:
            return await move_organization(
                session.store, session.settings, organization, to, progress=progress
            )

    result = run_with_store(ctx, work)
    if as_json:
        emit_json(move_json(result))
        return
    how = "Finished the interrupted move of" if result.resumed else "Moved"
    out().print(
        plain(
            f"{how} {result.organization!r}: {result.collection} from {result.source} to "
            f"{result.target} ({result.documents} document(s))."
        )
    )
    if not result.in_pool:
        status(
            f"{result.target} is not in the placement pool: it holds this organization, "
            "but new organizations are not placed there."
        )


def move_json(result: MoveResult) -> dict[str, Any]:
    return {
        "organization": result.organization,
        "collection": result.collection,
        "from": result.source,
        "to": result.target,
        "documents": result.documents,
        "resumed": result.resumed,
        "in_pool": result.in_pool,
    }


def rebalance_command(
    ctx: typer.Context,
    tolerance: Annotated[
        int | None,
        typer.Option(
            min=0, help="Largest spread of collections per database to accept (5% of the mean)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most this many moves; 0: no cap.")] = 0,
    yes: Annotated[bool, typer.Option("--yes", help="Carry out the moves, one by one.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Propose moves that even out the tenant databases. A dry run unless --yes is given.

    Organizations in databases outside the pool are moved into it first; then collections
    go from the fullest database to the emptiest until every pool database is within the
    tolerance, smallest tenants first. With --yes, stops at the first move that fails.
    """

    async def work(session: Session) -> tuple[RebalancePlan, list[MoveResult]]:
        plan = await plan_rebalance(
            session.store, session.settings, tolerance=tolerance, limit=limit
        )
        if not as_json:
            _print_plan(plan)
        if not plan.moves or not yes:
            if plan.moves and not as_json:
                status("Dry run: nothing was moved. Run again with --yes to carry this out.")
            return plan, []
        moved: list[MoveResult] = []
        with progress_bar(err(), quiet=quiet()) as progress:
            for number, move in enumerate(plan.moves, start=1):
                progress.title(f"[{number}/{len(plan.moves)}] {move.organization}")
                result = await move_organization(
                    session.store,
                    session.settings,
                    move.organization_id,
                    move.target,
                    progress=progress,
                )
                moved.append(result)
                progress.note(
                    f"[{number}/{len(plan.moves)}] moved {result.organization!r} from "
                    f"{result.source} to {result.target} ({result.documents} document(s))"
                )
        if not as_json:
            _print_moved(moved)
        return plan, moved

    # Planning only reads; the moves need the service's full configuration.
    plan, moved = run_with_store(ctx, work, signing=yes)
    if as_json:
        emit_json(
            {
                "tolerance": plan.tolerance,
                "pool": plan.pool,
                "databases": [
                    {
                        "name": name,
                        "in_pool": name in plan.pool,
                        "now": plan.before[name],
                        "after": plan.after.get(name, 0),
                    }
                    for name in sorted(plan.before)
                ],
                "skipped_busy": plan.skipped_busy,
                "moves": [_proposed_json(move) for move in plan.moves],
                "applied": yes and bool(plan.moves),
                "moved": [move_json(result) for result in moved],
            }
        )


def _print_moved(moved: list[MoveResult]) -> None:
    grid = table(
        f"{len(moved)} move(s) made", "organization", "collection", "from", "to", "documents"
    )
    for result in moved:
        grid.add_row(
            plain(result.organization),
            result.collection,
            result.source,
            result.target,
            str(result.documents),
        )
    out().print(grid)


def _proposed_json(move: ProposedMove) -> dict[str, Any]:
    return {
        "organization_id": move.organization_id,
        "organization": move.organization,
        "collection": move.collection,
        "from": move.source,
        "to": move.target,
        "documents": move.documents,
        "reason": move.reason,
    }


def _print_plan(plan: RebalancePlan) -> None:
    counts = table(
        f"Tenant collections per database (tolerance {plan.tolerance})",
        "database",
        "in pool",
        "now",
        "after",
    )
    for name in sorted(plan.before):
        counts.add_row(
            name,
            "yes" if name in plan.pool else "no",
            str(plan.before[name]),
            str(plan.after.get(name, 0)),
        )
    out().print(counts)
    if plan.skipped_busy:
        status(f"{plan.skipped_busy} organization(s) in an operation were left out.")
    if not plan.moves:
        out().print("Balanced: no move needed.")
        return
    moves = table(
        f"{len(plan.moves)} proposed move(s)",
        "organization",
        "collection",
        "from",
        "to",
        "documents (est.)",
        "why",
    )
    for move in plan.moves:
        moves.add_row(
            plain(move.organization),
            move.collection,
            move.source,
            move.target,
            str(move.documents),
            move.reason,
        )
    out().print(moves)


def capacity_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Collections plus indexes per database and for the cluster, against the limits.

    The limits are CAPACITY_DATABASE_LIMIT and CAPACITY_CLUSTER_LIMIT; from
    CAPACITY_WARN_RATIO of a limit on, the line is a warning. Exits 1 when any is.
    """

    async def work(session: Session) -> CapacityReport:
        return await measure(session.store, session.settings)

    report = run_with_store(ctx, work, signing=False)
    if as_json:
        emit_json(capacity_json(report))
    else:
        print_capacity(report)
    if report.warnings():
        raise typer.Exit(EXIT_PROBLEMS)


def print_capacity(report: CapacityReport) -> None:
    limits = report.limits
    grid = table(
        "Collections and indexes",
        "database",
        "role",
        "organizations",
        "collections",
        "indexes",
        "total",
        f"of {limits.database}",
        "level",
    )
    for database in report.databases:
        level = report.level_of(database)
        grid.add_row(
            database.name,
            database.role.value,
            str(database.organizations),
            str(database.collections),
            str(database.indexes),
            str(database.namespaces),
            f"{database.namespaces / limits.database:.0%}",
            level.value.upper() if level is not Level.OK else level.value,
        )
    cluster_level = report.cluster_level
    grid.add_row(
        "cluster",
        "",
        str(sum(d.organizations for d in report.databases)),
        str(sum(d.collections for d in report.databases)),
        str(sum(d.indexes for d in report.databases)),
        str(report.cluster_namespaces),
        f"{report.cluster_namespaces / limits.cluster:.0%} of {limits.cluster}",
        cluster_level.value.upper() if cluster_level is not Level.OK else cluster_level.value,
    )
    out().print(grid)
    for line in report.warnings():
        out().print(plain(f"WARNING: {line}"))


def capacity_json(report: CapacityReport) -> dict[str, Any]:
    limits = report.limits
    return {
        "limits": {
            "database": limits.database,
            "cluster": limits.cluster,
            "warn_ratio": limits.warn_ratio,
        },
        "databases": [
            {
                "name": database.name,
                "role": database.role.value,
                "organizations": database.organizations,
                "collections": database.collections,
                "indexes": database.indexes,
                "total": database.namespaces,
                "level": report.level_of(database).value,
            }
            for database in report.databases
        ],
        "cluster": {
            "organizations": sum(d.organizations for d in report.databases),
            "collections": sum(d.collections for d in report.databases),
            "indexes": sum(d.indexes for d in report.databases),
            "total": report.cluster_namespaces,
            "level": report.cluster_level.value,
        },
        "warnings": report.warnings(),
        "measured_at": report.measured_at.isoformat(timespec="seconds"),
    }
