"""`orgs list` and `orgs show`."""

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from app.cli.display import plain, size, table
from app.cli.runtime import JsonOption, Session, emit_json, out, run_with_store
from app.cli.runtime import status as note
from app.operations.organizations import (
    OrganizationReport,
    OrganizationRow,
    describe_organization,
    list_organizations,
)
from app.plans import Plan
from app.registry.models import LifecycleState, Status
from app.registry.repository import OrganizationFilter

app = typer.Typer(
    help="Look at organizations in the registry, whatever their state.", rich_markup_mode="markdown"
)


@app.command("list")
def list_command(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option(help="Only names containing this text (any case).")
    ] = None,
    status: Annotated[Status | None, typer.Option(help="Only this business status.")] = None,
    state: Annotated[LifecycleState | None, typer.Option(help="Only this lifecycle state.")] = None,
    plan: Annotated[Plan | None, typer.Option(help="Only this plan.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most this many; 0 for all.")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Organizations, by name, with their collection and member count."""
    where = OrganizationFilter(
        name_contains=name,
        state=state.value if state else None,
        status=status.value if status else None,
        plan=plan.value if plan else None,
        limit=limit,
    )

    async def work(session: Session) -> list[OrganizationRow]:
        return await list_organizations(session.store, session.settings, where)

    rows = run_with_store(ctx, work, signing=False)
    truncated = bool(limit) and len(rows) == limit
    if as_json:
        emit_json(
            {
                "organizations": [asdict(row) for row in rows],
                "limit": limit,
                "truncated": truncated,
            }
        )
        return
    grid = table(
        f"{len(rows)} organization(s)",
        "id",
        "name",
        "identifier",
        "state",
        "status",
        "plan",
        "tenant database",
        "tenant collection",
        "members",
    )
    for row in rows:
        grid.add_row(
            row.id,
            plain(row.name),
            row.identifier,
            row.state,
            row.status,
            row.plan,
            row.tenant_database,
            row.tenant_collection,
            str(row.members),
        )
    out().print(grid)
    if truncated:
        note(f"(first {limit}; --limit 0 lists all)")


@app.command("show")
def show_command(
    ctx: typer.Context,
    organization: Annotated[str, typer.Argument(metavar="NAME_OR_ID")],
    as_json: JsonOption = False,
) -> None:
    """One organization: its registry entry, owners, members and tenant collection."""

    async def work(session: Session) -> OrganizationReport:
        return await describe_organization(session.store, session.settings, organization)

    report = run_with_store(ctx, work, signing=False)
    if as_json:
        emit_json(
            {
                "registry": report.registry,
                "owners": report.owners,
                "members": report.members,
                "tenant_collection": asdict(report.tenant),
            }
        )
        return
    console = out()
    registry = Table(title="Registry", title_justify="left", show_header=False)
    registry.add_column("field", style="bold")
    registry.add_column("value", overflow="fold")
    for key, value in report.registry.items():
        registry.add_row(key, plain(value))
    registry.add_row("owners", plain(", ".join(report.owners) or "NONE"))
    registry.add_row("members", str(report.members))
    console.print(registry)

    tenant = report.tenant
    collection = Table(title="Tenant collection", title_justify="left", show_header=False)
    collection.add_column("field", style="bold")
    collection.add_column("value", overflow="fold")
    collection.add_row("name", tenant.name or "?")
    collection.add_row("exists", "yes" if tenant.exists else "NO")
    if tenant.exists:
        collection.add_row("documents", str(tenant.documents))
        collection.add_row("storage", size(tenant.storage_bytes))
    console.print(collection)
    if tenant.indexes:
        indexes = table("Indexes", "name", "keys", "options")
        for index in tenant.indexes:
            indexes.add_row(index.name, index.keys, index.options)
        console.print(indexes)
