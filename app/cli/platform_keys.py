"""`platform-keys create`, `list` and `revoke`: the keys of the platform management API."""

import getpass
from typing import Annotated, Any

import typer

from app.cli.display import plain, table
from app.cli.runtime import JsonOption, Session, emit_json, out, run_with_store, warn
from app.operations.platform_keys import (
    create_platform_key,
    list_platform_keys,
    revoke_platform_key,
)
from app.platform.models import PlatformKey, PlatformScope
from app.platform.service import MintedPlatformKey

app = typer.Typer(
    help="Keys of the platform management API (`/api/v1/admin`): every organization, for "
    "the operator's own back end.",
    rich_markup_mode="markdown",
)


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who does it, for the audit log (default: the system user)."),
]


def _row(key: PlatformKey) -> dict[str, Any]:
    def moment(value: Any) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {
        "id": str(key.id),
        "prefix": key.prefix,
        "name": key.name,
        "scopes": [scope.value for scope in key.scopes],
        "created_at": moment(key.created_at),
        "created_by": key.created_by,
        "last_used_at": moment(key.last_used_at),
        "revoked_at": moment(key.revoked_at),
    }


@app.command("create")
def create_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="What the key is for (shown in lists).")],
    scope: Annotated[
        PlatformScope, typer.Option("--scope", help="`read` for GETs; `write` for changes too.")
    ] = PlatformScope.READ,
    by: ByOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a platform key. Its secret is printed once, now: store it where its user reads it."""

    async def work(session: Session) -> MintedPlatformKey:
        return await create_platform_key(
            session.store, session.settings, name, scope, by or _operator()
        )

    minted = run_with_store(ctx, work)
    if as_json:
        emit_json({**_row(minted.key), "secret": minted.secret})
        return
    out().print(plain(minted.secret))
    warn(
        f"Platform key {minted.key.prefix} ({minted.key.scope.value}) made. The secret above "
        "is shown this once; only its keyed hash is kept."
    )


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every platform key, oldest first, revoked ones included; never a secret."""

    async def work(session: Session) -> list[PlatformKey]:
        return await list_platform_keys(session.store, session.settings)

    keys = run_with_store(ctx, work, signing=False)
    if as_json:
        emit_json({"platform_keys": [_row(key) for key in keys]})
        return
    grid = table(
        f"{len(keys)} platform key(s)",
        "prefix",
        "name",
        "scopes",
        "created",
        "by",
        "last used",
        "revoked",
    )
    for key in keys:
        row = _row(key)
        grid.add_row(
            key.prefix,
            plain(key.name),
            ",".join(row["scopes"]),
            row["created_at"],
            plain(key.created_by),
            row["last_used_at"] or "never",
            row["revoked_at"] or "",
        )
    out().print(grid)


@app.command("revoke")
def revoke_command(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="ID_OR_PREFIX", help="`tkp_<id>` or the id.")],
    by: ByOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a platform key: refused from its next request on."""

    async def work(session: Session) -> tuple[PlatformKey, bool]:
        return await revoke_platform_key(session.store, session.settings, key, by or _operator())

    revoked, changed = run_with_store(ctx, work)
    if as_json:
        emit_json({**_row(revoked), "revoked_now": changed})
        return
    what = "revoked" if changed else "was already revoked; nothing changed"
    out().print(plain(f"{revoked.prefix} ({revoked.name}): {what}"))
