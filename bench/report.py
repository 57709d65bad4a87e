"""The results as Markdown (for people) and JSON (every raw number), next to the charts."""

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.machine import CodeRevision, machine
from bench.model import EN_DASH, Table


@dataclass(frozen=True)
class RunInfo:
    command: str
    store: str
    started: datetime
    finished: datetime
    repeats: int
    quick: bool
    code_at_start: CodeRevision
    code_at_end: CodeRevision

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
            if row.figures:
                cells += [row.figure(metric.key).render(metric.digits) for metric in metrics]
            else:
                cells += ["not measured: no tenant-document API yet"] + [""] * (len(metrics) - 1)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += [f"- {note}" for note in table.notes]
    lines.append("")
    return lines


def render_markdown(info: RunInfo, tables: list[Table], charts: list[str]) -> str:
    facts = machine()
    packages = ", ".join(
        f"{key.split(':', 1)[1]} {value}"
        for key, value in facts.items()
        if key.startswith("version:")
    )
    lines = [
        "# Tenantry benchmark results",
        "",
        "| | |",
        "|---|---|",
        f"| Date | {info.started:%Y-%m-%d %H:%M:%S %Z}, "
        f"took {info.duration_seconds / 60:.1f} min |",
        f"| Command | `{info.command}` |",
        f"| Store | {info.store} |",
        f"| Code | {info.code} |",
        f"| Machine | {facts['cores']} cores, {facts['cpu']} |",
        f"| Python | {facts['implementation']} {facts['python']} |",
        f"| Platform | {facts['platform']} |",
        f"| Packages | {packages} |",
        "",
        f"Each figure is `median (min{EN_DASH}max)` over {info.repeats} run(s)"
        + (" (`--quick`: reduced counts and durations)" if info.quick else "")
        + "; a single value means every run agreed or there was one run. The service runs as "
        "a separate uvicorn process (`--loop uvloop --http httptools`, no access log) on a "
        "loopback port, except where a scenario says otherwise; the load generator runs on the "
        "same machine and shares its cores.",
        "",
    ]
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
        "run": {
            "command": info.command,
            "store": info.store,
            "started": info.started.isoformat(),
            "finished": info.finished.isoformat(),
            "duration_seconds": info.duration_seconds,
            "repeats": info.repeats,
            "quick": info.quick,
            "machine": machine(),
            "code_at_start": info.code_at_start.describe(),
            "code_at_end": info.code_at_end.describe(),
        },
        "scenarios": {table.key: table.as_json() for table in tables},
    }
    (out / "results.json").write_text(
        json.dumps(_json_safe(document), indent=2, allow_nan=False) + "\n"
    )


def _json_safe(value: object) -> object:
    """JSON has no NaN or infinity: a figure nothing was measured for becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value
