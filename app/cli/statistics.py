"""`stats`."""

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from app.cli.display import plain, size, table
from app.cli.runtime import JsonOption, Session, emit_json, out, run_with_store
from app.operations.statistics import Statistics, TenantSize, gather_statistics


def stats_command(
    ctx: typer.Context,
    top: Annotated[int, typer.Option(min=1, help="How many of the largest tenants.")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Organizations per state, status and plan; the largest tenants."""

    async def work(session: Session) -> Statistics:
        return await gather_statistics(session.store, session.settings, top)

    statistics = run_with_store(ctx, work, signing=False)
    if as_json:
        emit_json(
            {
                "totals": statistics.totals,
                "by_state": statistics.by_state,
                "by_status": statistics.by_status,
                "by_plan": statistics.by_plan,
                "largest_by_documents": [asdict(e) for e in statistics.largest_by_documents],
                "largest_by_storage": (
                    [asdict(e) for e in statistics.largest_by_storage]
                    if statistics.storage_known
                    else None
                ),
            }
        )
        return
    console = out()
    for title, counts in (
        ("Totals", statistics.totals),
        ("Organizations per state", statistics.by_state),
        ("Organizations per status", statistics.by_status),
        ("Organizations per plan", statistics.by_plan),
    ):
        grid = table(title, "", "count")
        for key, count in counts.items():
            grid.add_row(plain(key), str(count))
        console.print(grid)
    console.print(
        _sizes(f"Top {top} tenants by documents (estimated)", statistics.largest_by_documents)
    )
    if statistics.storage_known:
        console.print(_sizes(f"Top {top} tenants by storage", statistics.largest_by_storage))
    else:
        console.print("Storage sizes: n/a (the server does not report them)")


def _sizes(title: str, sizes: list[TenantSize]) -> Table:
    grid = table(title, "organization", "tenant collection", "documents", "storage")
    for entry in sizes:
        grid.add_row(
            plain(entry.organization),
            entry.collection,
            str(entry.documents),
            size(entry.storage_bytes),
        )
    return grid
