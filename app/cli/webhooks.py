"""`webhooks list`, `webhooks redeliver` and `events tail`."""

import asyncio
import json
from dataclasses import asdict
from typing import Annotated

import typer

from app.cli.display import plain, table
from app.cli.runtime import JsonOption, Session, emit_json, out, run_with_store
from app.events.models import Event
from app.operations.webhooks import latest_events, list_endpoints, redeliver

webhooks_app = typer.Typer(help="Webhook endpoints and their deliveries.")
events_app = typer.Typer(help="The events the service recorded.")

OrganizationOption = Annotated[
    str | None, typer.Option("--org", metavar="NAME_OR_ID", help="Only this organization.")
]


@webhooks_app.command("list")
def list_command(
    ctx: typer.Context, organization: OrganizationOption = None, as_json: JsonOption = False
) -> None:
    """Webhook endpoints, with whether they are enabled and failing."""

    async def work(session: Session) -> list[dict[str, object]]:
        rows = await list_endpoints(session.store, session.settings, organization)
        return [asdict(row) for row in rows]

    rows = run_with_store(ctx, work, signing=False)
    if as_json:
        emit_json({"endpoints": rows})
        return
    grid = table(f"{len(rows)} endpoint(s)", "id", "organization", "url", "types", "enabled")
    for row in rows:
        state = "yes" if row["enabled"] else f"NO ({row['disabled_reason'] or 'by its owners'})"
        types = row["types"]
        grid.add_row(
            str(row["id"]),
            str(row["organization_id"]),
            plain(row["url"]),
            ", ".join(types) if isinstance(types, list) else str(types),
            state,
        )
    out().print(grid)


@webhooks_app.command("redeliver")
def redeliver_command(
    ctx: typer.Context,
    endpoint: Annotated[str, typer.Argument(metavar="ENDPOINT_ID")],
    event_id: Annotated[str, typer.Argument(metavar="EVENT_ID")],
) -> None:
    """Queue one event for an endpoint again (a running instance's worker sends it)."""

    async def work(session: Session) -> None:
        await redeliver(session.store, session.settings, endpoint, event_id)

    run_with_store(ctx, work)
    out().print(f"queued {event_id} for {endpoint}")


@events_app.command("tail")
def tail_command(
    ctx: typer.Context,
    organization: OrganizationOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many of the newest.")] = 20,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events (Ctrl-C stops).")
    ] = False,
) -> None:
    """The newest events, oldest first, one JSON line each."""

    async def work(session: Session) -> None:
        seen: set[str] = set()
        while True:
            events = await latest_events(session.store, session.settings, organization, limit)
            for event in events:
                if event.id not in seen:
                    seen.add(event.id)
                    _print(event)
            if not follow:
                return
            await asyncio.sleep(1)

    run_with_store(ctx, work, signing=False)


def _print(event: Event) -> None:
    typer.echo(json.dumps(event.public(), ensure_ascii=False))
