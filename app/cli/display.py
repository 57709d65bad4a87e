"""How values look in the operator's terminal."""

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def size(value: int | None) -> str:
    if value is None:
        return "n/a"
    amount, unit = float(value), 0
    while amount >= 1024 and unit < len(_UNITS) - 1:
        amount, unit = amount / 1024, unit + 1
    return f"{value} B" if unit == 0 else f"{amount:.1f} {_UNITS[unit]}"


def table(title: str, *columns: str) -> Table:
    grid = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        # Ids, names and collection names must stay whole to be copied into mongosh.
        grid.add_column(column, overflow="fold")
    return grid


def plain(value: object) -> Text:
    """Text shown as is: names come from users and may contain Rich markup."""
    return Text(str(value))


class RichProgress:
    """The `Progress` the transfer operations report to, drawn as a bar on stderr."""

    def __init__(self, progress: Progress, description: str) -> None:
        self._progress = progress
        self._task = progress.add_task(description, total=None)

    def start(self, total: int) -> None:
        self._progress.update(self._task, total=total)

    def advance(self, count: int) -> None:
        self._progress.advance(self._task, count)


@contextmanager
def progress_bar(console: Console, description: str) -> Iterator[RichProgress]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=not console.is_terminal) as progress:
        yield RichProgress(progress, description)
