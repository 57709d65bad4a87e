"""How every command reaches the database: settings, store, event loop, and failures.

A command hands `run_with_store` the async work it wants done. The store comes from the same
settings as the service's (`MONGO_URI` or `--uri`, `PRIMARY_DB`, `TENANT_DB`, `.env`), unless
the caller of the Typer app passed one in `ctx.obj` (tests do, with a seeded in-memory store).

What a command reports goes to stdout (a table, or JSON with `--json`); status, progress,
warnings and errors go to stderr, and `--quiet` silences status and progress.
"""

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pymongo.errors import ConfigurationError as MongoConfigurationError
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError
from rich.console import Console

from app.config import IN_MEMORY_REFUSED, ConfigurationError, Settings, load_settings
from app.db.connect import open_store
from app.db.store import Store
from app.errors import AppError

Result = TypeVar("Result")
StoreOpener = Callable[[Settings], Store]

# Exit codes: 0 done (or nothing wrong, nothing to do), 1 problems found, something for an
# operator to do, or the operation refused, 2 a usage error (as Click reports them), the
# database cannot be reached or the configuration is unusable.
EXIT_PROBLEMS = 1
EXIT_UNREACHABLE = 2
EXIT_USAGE = 2
# Wide enough that no table or line is ever folded when stdout is a file or a pipe: ids and
# collection names must stay whole for the programs that read them.
_UNWRAPPED_WIDTH = 100_000
_AUTHENTICATION_FAILED = 18
_UNAUTHORIZED = 13


class _UnusableUri(Exception):
    pass


@dataclass(frozen=True, slots=True)
class CliConfig:
    """What a program embedding the CLI may pass as `ctx.obj`.

    `store` is borrowed and never closed by the CLI; a store from `open_store` is the CLI's
    own and closed when the command ends.
    """

    settings: Settings | None = None
    store: Store | None = None
    open_store: StoreOpener | None = None
    # False where the in-memory store is the point (the demo), not a mistake to warn about.
    announce_memory: bool = True


@dataclass(frozen=True, slots=True)
class Session:
    store: Store
    settings: Settings


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    """The options given before the command: `tenantry --uri ... --quiet COMMAND`."""

    uri: str | None = None
    quiet: bool = False


_options: ContextVar[GlobalOptions | None] = ContextVar("tenantry_cli_options", default=None)


def set_global_options(options: GlobalOptions) -> None:
    _options.set(options)


def global_options() -> GlobalOptions:
    return _options.get() or GlobalOptions()


def quiet() -> bool:
    return global_options().quiet


def out() -> Console:
    # Made per call: Rich binds to the current sys.stdout, which test runners replace.
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=_UNWRAPPED_WIDTH)
    return console


def err() -> Console:
    return Console(stderr=True, highlight=False)


def status(message: str) -> None:
    """A line about the work (not its result) on stderr, unless --quiet."""
    if not quiet():
        err().print(message, markup=False, soft_wrap=True, highlight=False)


def warn(message: str) -> None:
    """A warning on stderr, shown even with --quiet."""
    err().print(message, markup=False, soft_wrap=True, highlight=False)


def emit_json(value: Any) -> None:
    """A command's report as one JSON document on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def cli_config(obj: object) -> CliConfig:
    """Accept a CliConfig, a Store, or a store opener as `ctx.obj`."""
    if isinstance(obj, CliConfig):
        return obj
    if isinstance(obj, Store):
        return CliConfig(store=obj)
    if callable(obj):
        return CliConfig(open_store=obj)
    return CliConfig()


def command_settings(config: CliConfig, *, signing: bool) -> Settings:
    """The settings a command runs with: handed in, or read as the service reads them, with
    `--uri` in place of MONGO_URI. `signing=False` (commands that only read) does not insist
    on a SECRET_KEY, which they never use."""
    uri = global_options().uri
    if config.settings is not None:
        if uri is None:
            return config.settings
        return config.settings.model_copy(update={"mongo_uri": uri})
    try:
        return load_settings(
            signing=signing,
            mongo_uri=uri,
            store_given=config.store is not None or config.open_store is not None,
        )
    except ConfigurationError as exc:
        message = str(exc)
        if message == IN_MEMORY_REFUSED:
            message += " `tenantry demo` shows the commands on an in-memory store of its own."
        fail(message, EXIT_UNREACHABLE)


def run_with_store(
    ctx: typer.Context,
    work: Callable[[Session], Awaitable[Result]],
    *,
    signing: bool = True,
) -> Result:
    """Run `work` on the store, then close the store if this command opened it.

    Turns unreachable servers, bad configuration and refused operations into one line on
    stderr and an exit code, never a traceback. Commands that change nothing pass
    `signing=False`: they run without a SECRET_KEY.
    """
    config = cli_config(ctx.obj)
    settings = command_settings(config, signing=signing)

    async def main() -> Result:
        borrowed = config.store is not None
        try:
            store = config.store or (config.open_store or open_store)(settings)
        except (MongoConfigurationError, ValueError):
            # The driver's message may quote the URI, credentials included.
            raise _UnusableUri() from None
        try:
            if store.persistent:
                await store.ping()  # fail fast, before any prompt or partial output
            elif config.announce_memory:
                _warn_in_memory()
            return await work(Session(store, settings))
        finally:
            if not borrowed:
                await store.close()

    try:
        return asyncio.run(main())
    except ConnectionFailure:
        fail(
            f"Cannot connect to MongoDB at {server_hosts(settings.mongo_uri)}: check MONGO_URI",
            EXIT_UNREACHABLE,
        )
    except OperationFailure as exc:
        if exc.code in {_AUTHENTICATION_FAILED, _UNAUTHORIZED}:
            fail(
                f"MongoDB at {server_hosts(settings.mongo_uri)} refused the credentials or the "
                "permission: check MONGO_URI and the user's roles",
                EXIT_UNREACHABLE,
            )
        fail(f"MongoDB refused an operation (code {exc.code}): {exc.details}", EXIT_PROBLEMS)
    except _UnusableUri:
        fail("MONGO_URI is not a valid MongoDB connection string", EXIT_UNREACHABLE)
    except MongoConfigurationError:
        # Raised on first use too, e.g. when a mongodb+srv:// name does not resolve.
        fail(
            f"MongoDB at {server_hosts(settings.mongo_uri)} cannot be used as configured: "
            "check MONGO_URI",
            EXIT_UNREACHABLE,
        )
    except AppError as exc:
        fail(exc.message, EXIT_PROBLEMS)
    except PyMongoError as exc:
        fail(f"MongoDB error: {type(exc).__name__}", EXIT_PROBLEMS)


def fail(message: str, code: int) -> NoReturn:
    err().print(f"Error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def server_hosts(uri: str) -> str:
    """The host list of a MongoDB URI, without scheme, credentials, database or options."""
    rest = uri.split("://", 1)[-1].split("?", 1)[0]
    # Credentials end at the last "@" before the path; hosts are what follows, up to "/".
    hosts = rest.rpartition("@")[2].split("/", 1)[0]
    return hosts or "(no host)"


def _warn_in_memory() -> None:
    warn(
        "Warning: this is the in-memory store (MONGO_URI unset or memory://). It belongs to "
        "this process alone and starts empty, so operator commands see nothing of a running "
        "service: point MONGO_URI (or --uri) at the service's MongoDB server."
    )


JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print the report as one JSON document (shapes: the docs)."),
]
