"""Progress lines on stderr while a bench runs (its results go to files)."""

import sys
from collections.abc import Callable
from datetime import datetime


def speaker(source: str) -> Callable[[str], None]:
    """A function writing `[source HH:MM:SS] message` lines to stderr."""

    def say(message: str) -> None:
        sys.stderr.write(f"[{source} {datetime.now():%H:%M:%S}] {message}\n")
        sys.stderr.flush()

    return say
