"""The Typer application: `tenantry COMMAND`, or `python -m app.cli COMMAND`."""

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import typer

from app.cli import (
    accounts,
    demo,
    integrity,
    orgs,
    placement,
    platform_keys,
    statistics,
    transfer,
    webhooks,
)
from app.cli.runtime import GlobalOptions, set_global_options

app = typer.Typer(
    name="tenantry",
    help=(
        "Operator commands for Tenantry. They use the service's settings (MONGO_URI, "
        "PRIMARY_DB, TENANT_DB, TENANT_DATABASES or TENANT_DB_COUNT, .env). Reports go to "
        "stdout (`--json` for programs), status and progress to stderr. Exit codes: 0 done or "
        "nothing to do, 1 problems found, work for an operator, or the operation refused, 2 a "
        "usage error, MongoDB unreachable or the configuration unusable."
    ),
    no_args_is_help=True,
    add_completion=False,
    # Markdown reflows docstring paragraphs to the terminal width.
    rich_markup_mode="markdown",
    # A traceback's locals could show a password given on the command line or the URI.
    pretty_exceptions_show_locals=False,
)


def package_version() -> str:
    """The installed package's version; from a checkout that is not installed, the one
    `pyproject.toml` declares."""
    try:
        return version("tenantry")
    except PackageNotFoundError:
        pass
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
    return str(declared)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"tenantry {package_version()}")
        raise typer.Exit()


@app.callback()
def global_options(
    uri: Annotated[
        str | None,
        typer.Option(
            "--uri",
            metavar="MONGO_URI",
            help="The MongoDB connection string, in place of MONGO_URI. Beware: a password in "
            "it lands in the shell history.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No status lines or progress; errors only.")
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_show_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    set_global_options(GlobalOptions(uri=uri, quiet=quiet))


orgs.app.command("move")(placement.move_command)
orgs.app.command("rebalance")(placement.rebalance_command)
app.add_typer(orgs.app, name="orgs")
app.add_typer(accounts.app, name="accounts")
app.add_typer(platform_keys.app, name="platform-keys")
app.command("verify")(integrity.verify_command)
app.command("repair")(integrity.repair_command)
app.command("export")(transfer.export_command)
app.command("import")(transfer.import_command)
app.command("stats")(statistics.stats_command)
app.command("capacity")(placement.capacity_command)
app.command("demo")(demo.demo_command)
app.add_typer(webhooks.webhooks_app, name="webhooks")
app.add_typer(webhooks.events_app, name="events")


def main() -> None:
    """The `tenantry` console script."""
    app(prog_name="tenantry")
