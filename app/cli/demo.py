"""`demo`: the operator commands at work, without a MongoDB server.

Each process has an in-memory store of its own, so the commands cannot look at a service
started on one. The demo makes the store in its own process, signs a few organizations up
through the service's own code (as `POST /org/create` would), writes some documents, and
runs read-only commands against that store.
"""

import asyncio
import contextlib
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

import click
import typer
from pydantic import SecretStr

from app.access.permissions import BUILTIN_PERMISSIONS
from app.access.principal import Principal
from app.access.roles import Role
from app.cli.runtime import EXIT_UNREACHABLE, CliConfig, fail, quiet, status
from app.config import ExplicitSettings, Settings
from app.db.store import Store
from app.observability.metrics import Metrics
from app.organizations.lifecycle import no_checkpoint
from app.sessions.caller import Caller
from app.startup import prepare_database, start_services

ORGANIZATIONS = (
    ("Tech Innovations Corp", "admin@techcorp.example", 12),
    ("Globex", "owner@globex.example", 3),
    ("Initech", "owner@initech.example", 0),
)
# A demo password: the store vanishes with the process.
PASSWORD = "DemoPassword123"  # noqa: S105
COMMANDS = (
    ("orgs", "list"),
    ("orgs", "show", "Tech Innovations Corp"),
    ("stats", "--top", "3"),
    ("capacity",),
    ("verify",),
    ("orgs", "rebalance"),
)


def demo_command(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", help="Run the commands with --json.")
    ] = False,
) -> None:
    """Show the operator commands on an in-memory store of this process, seeded with a few
    organizations; nothing is kept. Needs the in-memory store's packages
    (`requirements-memory.txt`), not MongoDB."""
    try:
        from app.db.memory import open_memory_store
    except ImportError:
        fail(
            "the demo needs the in-memory store: pip install -r requirements-memory.txt",
            EXIT_UNREACHABLE,
        )
    settings = demo_settings()
    store = open_memory_store(settings)
    status("Seeding an in-memory store with a few organizations...")
    # The service's start-up warnings (in-memory store, emails to the log) are the demo's
    # premise, not news.
    logging.disable(logging.WARNING)
    try:
        asyncio.run(seed(store, settings))
    finally:
        logging.disable(logging.NOTSET)
    group = ctx.find_root().command
    config = CliConfig(settings=settings, store=store, announce_memory=False)
    for command in COMMANDS:
        arguments = ["--quiet"] if quiet() else []
        arguments += [*command, *(["--json"] if json_output else [])]
        status(f"\n$ tenantry {' '.join(_quoted(part) for part in command)}")
        # A command that finds something to report exits 1; the demo goes on.
        with contextlib.suppress(click.exceptions.Exit):
            group.main(arguments, obj=config, prog_name="tenantry", standalone_mode=False)
    status("\nThat was an in-memory store; against your MongoDB, set MONGO_URI or pass --uri.")


def demo_settings() -> Settings:
    return ExplicitSettings(
        mongo_uri="memory://",
        environment="development",
        # A key for this process only: nothing it signs outlives the demo.
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        tenant_db_count=2,
        recovery_interval_seconds=0,
        capacity_refresh_seconds=0,
        signup_per_address_per_hour=0,
        signup_total_per_hour=0,
    )


async def seed(store: Store, settings: Settings) -> None:
    await prepare_database(store, settings)
    services = await start_services(settings, store, Metrics(), no_checkpoint)
    for name, email, documents in ORGANIZATIONS:
        view = await services.organizations.create(name, email, PASSWORD, "127.0.0.1")
        organization = view.organization
        if not documents:
            continue
        owner = Principal(
            account_id=organization.admin_id,
            organization_id=organization.id,
            email=email,
            role=Role.OWNER,
            permissions=BUILTIN_PERMISSIONS[Role.OWNER],
            token_id="demo",  # noqa: S106 (an id, not a secret)
            token_expires_at=datetime.now(UTC) + timedelta(minutes=5),
        )
        await services.documents.create(
            Caller(owner, organization),
            [
                {"title": f"Document {n}", "status": "open" if n % 3 else "done"}
                for n in range(documents)
            ],
        )


def _quoted(part: str) -> str:
    return f'"{part}"' if " " in part else part
