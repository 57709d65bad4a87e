"""`export` and `import` of an organization's tenant documents."""

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.display import progress_bar
from app.cli.runtime import (
    EXIT_USAGE,
    JsonOption,
    Session,
    emit_json,
    err,
    fail,
    quiet,
    run_with_store,
    status,
    warn,
)
from app.operations.transfer import TransferResult, export_tenant, import_tenant

OrganizationArgument = Annotated[
    str, typer.Argument(metavar="ORG", help="Organization name or 24-hex id.")
]
# The conventional name of standard output (export) and standard input (import).
STREAM = "-"


def export_command(
    ctx: typer.Context,
    organization: OrganizationArgument,
    file: Annotated[
        Path,
        typer.Argument(dir_okay=False, help="Where to write (JSON Lines); - for standard output."),
    ],
    gzip: Annotated[
        bool, typer.Option("--gzip", help="Compress (implied by a FILE ending in .gz).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write the organization's tenant documents to FILE as canonical Extended JSON lines.

    With FILE `-` the documents go to standard output and the summary to stderr.
    """
    to_stdout = str(file) == STREAM
    if to_stdout and as_json:
        fail("--json reports on stdout, where `export -` writes the documents", EXIT_USAGE)
    compress = gzip or file.suffix == ".gz"

    async def work(session: Session) -> TransferResult:
        with progress_bar(err(), quiet=quiet()) as progress:
            return await export_tenant(
                session.store,
                session.settings,
                organization,
                sys.stdout.buffer if to_stdout else file,
                compress=compress,
                progress=progress,
            )

    result = run_with_store(ctx, work, signing=False)
    if as_json:
        emit_json(_transfer_json(result))
        return
    how = "gzipped " if result.compressed else ""
    where = "standard output" if result.path is None else str(result.path)
    status(
        f"Exported {result.documents} document(s) of {result.organization} "
        f"({result.collection}) to {how}{where}"
    )


def import_command(
    ctx: typer.Context,
    organization: OrganizationArgument,
    file: Annotated[
        Path,
        typer.Argument(
            dir_okay=False,
            allow_dash=True,
            help="A file written by `export`; - for standard input.",
        ),
    ],
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Overwrite documents whose _id exists already."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Import another organization's export (documents naming workspaces that "
            "this organization does not have).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Load FILE (plain or gzipped) into the organization's tenant collection.

    The whole file is checked first: without --replace, a file holding an _id that already
    exists imports nothing; without --force, neither does another organization's export.
    """
    from_stdin = str(file) == STREAM
    if not from_stdin and not file.is_file():
        fail(f"{file}: no such file", EXIT_USAGE)

    with _input_file(file, from_stdin) as path:

        async def work(session: Session) -> TransferResult:
            with progress_bar(err(), quiet=quiet()) as progress:
                return await import_tenant(
                    session.store,
                    session.settings,
                    organization,
                    path,
                    replace=replace,
                    force=force,
                    progress=progress,
                    label="standard input" if from_stdin else None,
                )

        result = run_with_store(ctx, work)
    if result.foreign_workspaces:
        warn(
            f"Warning: imported another organization's export: documents name "
            f"{len(result.foreign_workspaces)} workspace(s) that {result.organization!r} does "
            f"not have ({', '.join(result.foreign_workspaces)})."
        )
    if as_json:
        emit_json(_transfer_json(result))
        return
    replaced = f", {result.replaced} replacing existing ones" if replace else ""
    status(
        f"Imported {result.documents} document(s) into {result.collection} "
        f"({result.organization}){replaced}"
    )


@contextmanager
def _input_file(file: Path, from_stdin: bool) -> Iterator[Path]:
    """The file to import; standard input is saved to a private temporary file first, since
    the import reads its input twice (checking it all, then loading it)."""
    if not from_stdin:
        yield file
        return
    with tempfile.TemporaryDirectory(prefix="tenantry-import-") as directory:
        path = Path(directory) / "standard-input.jsonl"
        with path.open("wb") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
        yield path


def _transfer_json(result: TransferResult) -> dict[str, Any]:
    return {
        "organization": result.organization,
        "collection": result.collection,
        "documents": result.documents,
        "replaced": result.replaced,
        "path": None if result.path is None else str(result.path),
        "compressed": result.compressed,
        "foreign_workspaces": result.foreign_workspaces,
    }
