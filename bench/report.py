"""The results as Markdown (for people) and JSON (every raw number), next to the charts."""

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.loadgen import MISSING_WRK
from bench.machine import CodeRevision, machine
from bench.model import EN_DASH, Table

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MEMORY_STORE = "in-memory (mongomock, `memory://`)"


@dataclass(frozen=True)
class RunInfo:
    command: str
    store: str
    started: datetime
    finished: datetime
    quick: bool
    code_at_start: CodeRevision
    code_at_end: CodeRevision
    # Runs per figure, for a bench that repeats its measurements.
    repeats: int | None = None
    load_generator: str = ""

    @property
    def code(self) -> str:
        start, end = self.code_at_start, self.code_at_end
        if start.service != end.service:
            return (
                f"**the service changed during the run**: {start.describe()} at the start, "
                f"{end.describe()} at the end"
            )
        if start.commit != end.commit:
            return f"{start.describe()}; later commits during the run left the service alone"
        return start.describe()

    @property
    def duration_seconds(self) -> float:
        return (self.finished - self.started).total_seconds()

    def as_json(self) -> dict[str, object]:
        """The run's facts for a JSON results file."""
        repeats = {} if self.repeats is None else {"repeats": self.repeats}
        return {
            "command": self.command,
            "store": self.store,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "duration_seconds": self.duration_seconds,
            **repeats,
            "quick": self.quick,
            **({"load_generator": self.load_generator} if self.load_generator else {}),
            "machine": machine(),
            "commit": self.code_at_start.commit,
            "tree_dirty": self.code_at_start.dirty > 0,
            "code_at_start": self.code_at_start.describe(),
            "code_at_end": self.code_at_end.describe(),
        }


def redact_uri(uri: str) -> str:
    """A MongoDB URI without its password, fit to publish."""
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", uri)


def render_table(table: Table) -> list[str]:
    lines = [f"## {table.title}", ""]
    metrics = [m for m in table.metrics if any(m.key in row.figures for row in table.rows)]
    if table.rows:
        headers = [*table.label_headers.values(), *(metric.header for metric in metrics)]
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "---|" * len(headers))
        for row in table.rows:
            cells = [str(row.labels.get(key, "")) for key in table.label_headers]
            cells += [row.figure(metric.key).render(metric.digits) for metric in metrics]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"- {note}" for note in table.notes]
    lines.append("")
    return lines


def header_lines(title: str, info: RunInfo) -> list[str]:
    """A results page's title and its table of when, what and where, then a blank line."""
    facts = machine()
    packages = ", ".join(
        f"{key.split(':', 1)[1]} {value}"
        for key, value in facts.items()
        if key.startswith("version:")
    )
    return [
        f"# {title}",
        "",
        "| | |",
        "|---|---|",
        f"| Date | {info.started:%Y-%m-%d %H:%M:%S %Z}, "
        f"took {info.duration_seconds / 60:.1f} min |",
        f"| Command | `{info.command}` |",
        *([f"| Load generator | {info.load_generator} |"] if info.load_generator else []),
        f"| Store | {info.store} |",
        f"| Code | {info.code} |",
        f"| Machine | {facts['cores']} cores, {facts['cpu']} |",
        f"| Python | {facts['implementation']} {facts['python']} |",
        f"| Platform | {facts['platform']} |",
        f"| Packages | {packages} |",
        "",
    ]


def render_markdown(info: RunInfo, tables: list[Table], charts: list[str]) -> str:
    lines = [
        *header_lines("Tenantry benchmark results", info),
        f"Each figure is `median (min{EN_DASH}max)` over the runs or rounds its scenario "
        "names"
        + (" (`--quick`: reduced counts and durations)" if info.quick else "")
        + "; a single value means every run agreed or there was one run. The service runs as "
        "a separate uvicorn process (`--loop uvloop --http httptools --no-access-log`) on a "
        "loopback port, except where a scenario says otherwise; the load generator runs on the "
        "same machine and shares its cores.",
        "",
    ]
    if info.load_generator.startswith("the Python client"):
        lines += [f"**Warning:** {MISSING_WRK}", ""]
    for table in tables:
        lines += render_table(table)
    if charts:
        lines += ["## Charts", ""]
        lines += [f"![{Path(chart).stem}]({chart})" for chart in charts]
        lines.append("")
    return "\n".join(lines)


def write_results(out: Path, info: RunInfo, tables: list[Table], charts: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text(render_markdown(info, tables, charts))
    document = {
        "run": info.as_json(),
        "scenarios": {table.key: table.as_json() for table in tables},
    }
    write_json(out / "results.json", document)


def write_json(path: Path, document: object) -> None:
    """Indented JSON, every figure nothing was measured for (NaN, infinity) as null."""
    path.write_text(json.dumps(_json_safe(document), indent=2, allow_nan=False) + "\n")


def _json_safe(value: object) -> object:
    """JSON has no NaN or infinity: a figure nothing was measured for becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value
