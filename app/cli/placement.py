"""`orgs move`, `orgs rebalance` and `capacity`."""

from typing import Annotated

import typer

from app.cli.display import plain, table
from app.cli.runtime import EXIT_PROBLEMS, Session, out, run_with_store
from app.operations.placement import (
    MoveResult,
    RebalancePlan,
    move_organization,
    plan_rebalance,
)
from app.registry.capacity import CapacityReport, Level, measure


def move_command(
    ctx: typer.Context,
    organization: Annotated[str, typer.Argument(metavar="NAME_OR_ID")],
    to: Annotated[str, typer.Option("--to", help="The database to move the collection to.")],
) -> None:
    """Move an organization's tenant collection to another database.

    The collection keeps its name, documents, `_id`s and indexes. Writes to the organization's
    documents answer 503 while the copy runs; reads keep working. If the move is interrupted,
    run the same command again to finish it (the service's recovery also finishes it).
    """

    async def work(session: Session) -> MoveResult:
        return await move_organization(session.store, session.settings, organization, to)

    result = run_with_store(ctx, work)
    how = "Finished the interrupted move of" if result.resumed else "Moved"
    out().print(
        plain(
            f"{how} {result.organization!r}: {result.collection} from {result.source} to "
            f"{result.target} ({result.documents} document(s))."
        )
    )
    if not result.in_pool:
        out().print(
            plain(
                f"{result.target} is not in the placement pool: it holds this organization, "
                "but new organizations are not placed there."
            )
        )


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
) -> None:
    """Propose moves that even out the tenant databases. A dry run unless --yes is given.

    Organizations in databases outside the pool are moved into it first; then collections
    go from the fullest database to the emptiest until every pool database is within the
    tolerance, smallest tenants first. With --yes, stops at the first move that fails.
    """

    async def work(session: Session) -> None:
        plan = await plan_rebalance(
            session.store, session.settings, tolerance=tolerance, limit=limit
        )
        _print_plan(plan)
        if not plan.moves:
            return
        if not yes:
            out().print("Dry run: nothing was moved. Run again with --yes to carry this out.")
            return
        for number, move in enumerate(plan.moves, start=1):
            result = await move_organization(
                session.store, session.settings, move.organization_id, move.target
            )
            out().print(
                plain(
                    f"[{number}/{len(plan.moves)}] moved {result.organization!r} from "
                    f"{result.source} to {result.target} ({result.documents} document(s))"
                )
            )

    run_with_store(ctx, work)


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
        out().print(f"{plan.skipped_busy} organization(s) in an operation were left out.")
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


def capacity_command(ctx: typer.Context) -> None:
    """Collections plus indexes per database and for the cluster, against the limits.

    The limits are CAPACITY_DATABASE_LIMIT and CAPACITY_CLUSTER_LIMIT; from
    CAPACITY_WARN_RATIO of a limit on, the line is a warning. Exits 1 when any is.
    """

    async def work(session: Session) -> CapacityReport:
        return await measure(session.store, session.settings)

    report = run_with_store(ctx, work)
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
