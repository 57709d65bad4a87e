"""`verify` and `repair`."""

from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from app.cli.display import plain, table
from app.cli.runtime import EXIT_PROBLEMS, Session, out, run_with_store
from app.operations.repair import RepairOutcome, Step, plan_repair, repair
from app.operations.verify import VerificationReport, verify
from app.registry.capacity import CapacityReport, measure


def verify_command(ctx: typer.Context) -> None:
    """Compare the registry with the tenant collections and the identifier claims, and count
    collections and indexes against the capacity limits (see `capacity`).

    Exits 1 when anything is wrong or a capacity warning is due, 0 when all is well.
    """

    async def work(session: Session) -> tuple[VerificationReport, CapacityReport]:
        return await verify(session.store), await measure(session.store, session.settings)

    report, capacity = run_with_store(ctx, work)
    _print_report(report)
    warnings = capacity.warnings()
    for line in warnings:
        out().print(plain(f"CAPACITY WARNING: {line}"))
    if warnings:
        out().print("`capacity` shows every database; `orgs rebalance` proposes moves.")
    if not report.clean or warnings:
        raise typer.Exit(EXIT_PROBLEMS)


def repair_command(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Act; without it nothing changes.")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Also drop orphan collections that hold documents (lost for good)."
        ),
    ] = False,
) -> None:
    """Fix what `verify` finds. A dry run unless --yes is given.

    Unfinished operations and orphan claims are settled by the service's own recovery, missing
    collections created empty, empty orphan collections dropped. Orphan collections holding
    documents are kept unless --force. With --yes, exits 1 if problems remain afterwards.
    """

    async def work(session: Session) -> bool:
        """Plan, and act when asked; True when nothing is left wrong."""
        report = await verify(session.store)
        if report.clean:
            out().print("Nothing to repair: the registry, claims and collections agree.")
            return True
        grace = timedelta(seconds=session.settings.recovery_grace_seconds)
        out().print(_steps_table("Repair plan", plan_repair(report, force=force, grace=grace)))
        if not yes:
            out().print("Dry run: nothing was changed. Run again with --yes to apply this plan.")
            return True
        outcome = await repair(session.store, session.settings, force=force, announce=_say)
        return _print_outcome(outcome)

    if not run_with_store(ctx, work):
        raise typer.Exit(EXIT_PROBLEMS)


def _print_outcome(outcome: RepairOutcome) -> bool:
    # Each change was printed as it was made (see `_say`); a count closes the list.
    out().print(f"{len(outcome.done)} change(s) made.")
    if outcome.left:
        out().print(_steps_table("Left for an operator", outcome.left))
        return False
    out().print("Repaired: verify finds nothing wrong now.")
    return True


def _print_report(report: VerificationReport) -> None:
    summary = (
        f"{report.organizations} organization(s), {report.collections} tenant collection(s), "
        f"{report.claims} identifier claim(s) checked"
    )
    if report.clean:
        out().print(f"OK: {summary}; everything agrees.")
        return
    grid = table(f"{len(report.findings)} problem(s)", "problem", "subject", "detail")
    for finding in report.findings:
        grid.add_row(finding.problem.value, plain(finding.subject), plain(finding.detail))
    out().print(grid)
    out().print(f"{summary}. `repair` shows what it would do about them.")


def _steps_table(title: str, steps: list[Step]) -> Table:
    grid = table(title, "action", "subject", "detail")
    for step in steps:
        grid.add_row(step.action, plain(step.subject), plain(step.detail))
    return grid


def _say(line: str) -> None:
    out().print(plain(line))
