"""How values look in the operator's terminal."""

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
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


class Reporter:
    """Progress of long work, in named phases, on stderr.

    On a terminal, a bar (a spinner while the total is unknown); otherwise one plain line per
    phase, so that logs show what the command was doing; nothing at all with --quiet. It is
    the `Progress` the operations report to.
    """

    def __init__(self, progress: Progress | None, console: Console, shown: bool) -> None:
        self._progress = progress
        self._console = console
        self._shown = shown
        self._task = progress.add_task("starting", total=None) if progress else None
        self._title = ""

    def title(self, title: str) -> None:
        """What the phases that follow belong to (one of several moves, say)."""
        self._title = f"{title}: "

    def phase(self, label: str, total: int | None = None) -> None:
        """Begin a phase: `total` items to go, or None when that is not known (yet)."""
        description = self._title + label
        if self._progress is not None and self._task is not None:
            self._progress.reset(self._task, total=total, description=description)
        elif self._shown:
            counted = f" ({total})" if total is not None else ""
            self._console.print(f"{description}{counted}...", markup=False, highlight=False)

    def note(self, line: str) -> None:
        """A status line, printed above the bar."""
        if self._shown:
            self._console.print(line, markup=False, highlight=False, soft_wrap=True)

    def advance(self, count: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, count)

    def update(self, completed: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=completed)


@contextmanager
def progress_bar(console: Console, *, quiet: bool) -> Iterator[Reporter]:
    if quiet:
        yield Reporter(None, console, shown=False)
        return
    if not console.is_terminal:
        yield Reporter(None, console, shown=True)
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield Reporter(progress, console, shown=True)
