"""`export` and `import` of an organization's tenant documents."""

from pathlib import Path
from typing import Annotated

import typer

from app.cli.display import plain, progress_bar
from app.cli.runtime import Session, err, out, run_with_store
from app.operations.transfer import TransferResult, export_tenant, import_tenant

OrganizationArgument = Annotated[
    str, typer.Argument(metavar="ORG", help="Organization name or 24-hex id.")
]


def export_command(
    ctx: typer.Context,
    organization: OrganizationArgument,
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write (JSON Lines).")],
    gzip: Annotated[
        bool, typer.Option("--gzip", help="Compress (implied by a FILE ending in .gz).")
    ] = False,
) -> None:
    """Write the organization's tenant documents to FILE as canonical Extended JSON lines."""
    compress = gzip or file.suffix == ".gz"

    async def work(session: Session) -> TransferResult:
        with progress_bar(err(), "exporting") as progress:
            return await export_tenant(
                session.store,
                session.settings,
                organization,
                file,
                compress=compress,
                progress=progress,
            )

    result = run_with_store(ctx, work)
    how = "gzipped " if result.compressed else ""
    out().print(
        plain(
            f"Exported {result.documents} document(s) of {result.organization} "
            f"({result.collection}) to {how}{result.path}"
        )
    )


def import_command(
    ctx: typer.Context,
    organization: OrganizationArgument,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A file written by `export`.")
    ],
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Overwrite documents whose _id exists already."),
    ] = False,
) -> None:
    """Load FILE (plain or gzipped) into the organization's tenant collection.

    Without --replace, a file holding an _id that already exists imports nothing.
    """

    async def work(session: Session) -> TransferResult:
        with progress_bar(err(), "importing") as progress:
            return await import_tenant(
                session.store,
                session.settings,
                organization,
                file,
                replace=replace,
                progress=progress,
            )

    result = run_with_store(ctx, work)
    replaced = f", {result.replaced} replacing existing ones" if replace else ""
    out().print(
        plain(
            f"Imported {result.documents} document(s) into {result.collection} "
            f"({result.organization}){replaced}"
        )
    )
