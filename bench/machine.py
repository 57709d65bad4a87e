"""The machine and code being measured, and how busy other processes kept the machine."""

import hashlib
import math
import os
import platform
import re
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "fastapi",
    "uvicorn",
    "starlette",
    "pymongo",
    "bcrypt",
    "uvloop",
    "httptools",
    "mongomock",
    "httpx",
)


def cpu_model() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def machine() -> dict[str, str]:
    versions: dict[str, str] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        **{f"version:{name}": version for name, version in versions.items()},
    }


@dataclass(frozen=True)
class CodeRevision:
    """The commit measured, and a fingerprint of the service's code (app/ and main.py,
    committed or not). Taken at the start and at the end of a run: a different fingerprint
    means the service changed while it was being measured; commits touching nothing else
    do not count."""

    commit: str
    service: str
    uncommitted: int
    # Tracked files changed anywhere in the tree (the bench's own included).
    dirty: int = 0

    def describe(self) -> str:
        if not self.commit:
            return "unknown (not a git checkout)"
        local = (
            f" plus uncommitted changes to {self.uncommitted} service path(s)"
            if self.uncommitted
            else ""
        )
        tree = f"tree dirty: {self.dirty} tracked path(s) changed" if self.dirty else "clean tree"
        return f"git {self.commit}{local} ({tree}; service code fingerprint {self.service})"


def code_revision() -> CodeRevision:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = _git(root, "rev-parse", "--short", "HEAD")
        trees = _git(root, "rev-parse", "HEAD:app", "HEAD:main.py")
        status = _git(root, "status", "--porcelain", "--", "app", "main.py")
        diff = _git(root, "diff", "HEAD", "--", "app", "main.py")
        tree = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return CodeRevision("", "", 0)
    fingerprint = hashlib.sha256("\0".join((trees, status, diff)).encode()).hexdigest()[:10]
    return CodeRevision(commit, fingerprint, len(status.splitlines()), len(tree.splitlines()))


def _git(root: Path, *args: str) -> str:
    return subprocess.run(  # noqa: S603 - fixed git arguments
        ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout.strip()


def _busy_seconds() -> tuple[float, float]:
    """CPU time spent by every process on the machine so far, and time stolen by the host."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return 0.0, 0.0
    ticks = [int(value) for value in fields]
    hertz = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (ticks + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / hertz, steal / hertz


def _own_seconds() -> float:
    """CPU time of this process and of its finished children (every server it started)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


MIN_METERED_SECONDS = 5.0


@dataclass
class CpuMeter:
    """How much of the machine other processes used while a scenario ran: measurements taken
    while something else competes for the cores are not comparable with quiet ones."""

    _wall: float = 0.0
    _busy: float = 0.0
    _steal: float = 0.0
    _own: float = 0.0

    def start(self) -> None:
        self._wall = time.monotonic()
        self._busy, self._steal = _busy_seconds()
        self._own = _own_seconds()

    def stop(self) -> dict[str, float]:
        capacity = (time.monotonic() - self._wall) * (os.cpu_count() or 1)
        busy, steal = _busy_seconds()
        own = _own_seconds() - self._own
        other = max(0.0, busy - self._busy - own)
        if capacity < MIN_METERED_SECONDS:
            # /proc/stat counts in clock ticks: over a moment, rounding is all it would show.
            return dict.fromkeys(
                ("other_processes_share", "bench_and_server_share", "steal_share"), math.nan
            )
        return {
            "other_processes_share": other / capacity,
            "bench_and_server_share": own / capacity,
            "steal_share": (steal - self._steal) / capacity,
        }


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` and all its threads so far (`/proc/<pid>/stat`
    fields 14 and 15), in seconds; NaN where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return math.nan
    # The command name (field 2) is in parentheses and may hold spaces: count after it.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")
