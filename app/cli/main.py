"""The Typer application: `python -m app.cli COMMAND`."""

import typer

from app.cli import accounts, integrity, orgs, placement, statistics, transfer

app = typer.Typer(
    name="tenantry",
    help=(
        "Operator commands for Tenantry. They use the service's settings (MONGO_URI, "
        "PRIMARY_DB, TENANT_DB, TENANT_DATABASES or TENANT_DB_COUNT, .env). Exit codes: 0 "
        "done or nothing wrong, 1 problems found or the operation refused, 2 MongoDB "
        "unreachable or configuration unusable."
    ),
    no_args_is_help=True,
    add_completion=False,
    # Markdown reflows docstring paragraphs to the terminal width.
    rich_markup_mode="markdown",
    # A traceback's locals could show a password given on the command line or the URI.
    pretty_exceptions_show_locals=False,
)
orgs.app.command("move")(placement.move_command)
orgs.app.command("rebalance")(placement.rebalance_command)
app.add_typer(orgs.app, name="orgs")
app.add_typer(accounts.app, name="accounts")
app.command("verify")(integrity.verify_command)
app.command("repair")(integrity.repair_command)
app.command("export")(transfer.export_command)
app.command("import")(transfer.import_command)
app.command("stats")(statistics.stats_command)
app.command("capacity")(placement.capacity_command)
