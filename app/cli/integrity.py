"""`verify` and `repair`."""

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from app.cli.display import plain, table
from app.cli.runtime import (
    EXIT_PROBLEMS,
    JsonOption,
    Session,
    emit_json,
    out,
    run_with_store,
    status,
)
from app.operations.repair import RepairOutcome, Step, plan_repair, repair
from app.operations.verify import VerificationReport, verify
from app.registry.capacity import CapacityReport, measure


def verify_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Compare the registry with the tenant collections and the identifier claims, and count
    collections and indexes against the capacity limits (see `capacity`).

    Exits 1 when anything is wrong or a capacity warning is due, 0 when all is well.
    """

    async def work(session: Session) -> tuple[VerificationReport, CapacityReport]:
        return await verify(session.store), await measure(session.store, session.settings)

    report, capacity = run_with_store(ctx, work, signing=False)
    warnings = capacity.warnings()
    if as_json:
        emit_json(
            {
                "clean": report.clean and not warnings,
                "checked": {
                    "organizations": report.organizations,
                    "collections": report.collections,
                    "claims": report.claims,
                },
                "findings": [
                    {
                        "problem": finding.problem.value,
                        "subject": finding.subject,
                        "detail": finding.detail,
                    }
                    for finding in report.findings
                ],
                "capacity_warnings": warnings,
            }
        )
    else:
        _print_report(report)
        for line in warnings:
            out().print(plain(f"CAPACITY WARNING: {line}"))
        if warnings:
            status("`capacity` shows every database; `orgs rebalance` proposes moves.")
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
    as_json: JsonOption = False,
) -> None:
    """Fix what `verify` finds. A dry run unless --yes is given.

    Unfinished operations and orphan claims are settled by the service's own recovery, missing
    collections created empty, empty orphan collections dropped. Orphan collections holding
    documents are kept unless --force. Exits 0 when there is nothing to repair (or, with
    --yes, nothing left), 1 when the dry run found work or problems remain after --yes.
    """

    async def work(session: Session) -> dict[str, Any]:
        report = await verify(session.store)
        if report.clean:
            if not as_json:
                out().print("Nothing to repair: the registry, claims and collections agree.")
            return _repair_json(applied=False, plan=[], done=[], left=[])
        grace = timedelta(seconds=session.settings.recovery_grace_seconds)
        plan = plan_repair(report, force=force, grace=grace)
        if not as_json:
            out().print(_steps_table("Repair plan", plan))
        if not yes:
            if not as_json:
                status("Dry run: nothing was changed. Run again with --yes to apply this plan.")
            return _repair_json(applied=False, plan=plan, done=[], left=plan)
        # Each change as it is made: part of the report, unless the report is JSON.
        announce = status if as_json else _say
        outcome = await repair(session.store, session.settings, force=force, announce=announce)
        if not as_json:
            _print_outcome(outcome)
        return _repair_json(applied=True, plan=plan, done=outcome.done, left=outcome.left)

    # A dry run only reads; acting needs the service's full configuration.
    result = run_with_store(ctx, work, signing=yes)
    if as_json:
        emit_json(result)
    if result["left"]:
        raise typer.Exit(EXIT_PROBLEMS)


def _repair_json(
    *, applied: bool, plan: list[Step], done: list[Step], left: list[Step]
) -> dict[str, Any]:
    return {
        "applied": applied,
        "plan": [asdict(step) for step in plan],
        "done": [asdict(step) for step in done],
        "left": [asdict(step) for step in left],
    }


def _print_outcome(outcome: RepairOutcome) -> None:
    # Each change was announced as it was made (see `_say`); a count closes the list.
    out().print(f"{len(outcome.done)} change(s) made.")
    if outcome.left:
        out().print(_steps_table("Left for an operator", outcome.left))
        return
    out().print("Repaired: verify finds nothing wrong now.")


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
