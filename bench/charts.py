"""PNG charts of the scenarios and of the placement bench, drawn with matplotlib's Agg backend
(no display needed)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bench.model import TIMES, Spread, Table
from bench.placement_model import SERIES, GrowthRun

TARGET_P99_RATIO = 2.0


def _errors(spreads: list[Spread]) -> list[list[float]]:
    """Error bars from each median down to the minimum and up to the maximum."""
    return [
        [max(0.0, s.median - s.low) for s in spreads],
        [max(0.0, s.high - s.median) for s in spreads],
    ]


def _grouped_bars(axes: Axes, groups: list[str], series: dict[str, list[Spread]]) -> None:
    width = 0.8 / max(1, len(series))
    for index, (name, spreads) in enumerate(series.items()):
        positions = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        axes.bar(
            positions,
            [s.median for s in spreads],
            width,
            yerr=_errors(spreads),
            capsize=3,
            label=name,
        )
    axes.set_xticks(range(len(groups)), groups)
    axes.legend()


def event_loop_health(table: Table, path: Path) -> bool:
    logins = sorted({int(row.labels["logins"]) for row in table.rows if row.labels["logins"]})
    if not logins:
        return False
    figure, axes = plt.subplots(figsize=(9, 4.8))
    series: dict[str, list[Spread]] = {}
    for workers in dict.fromkeys(str(row.labels["workers"]) for row in table.rows):
        suffix = "" if workers.startswith("unset") else f", PASSWORD_HASH_WORKERS={workers}"
        for endpoint in ("/health", "/org/get"):
            series[f"GET {endpoint}{suffix}"] = [
                row.figure("p99_ratio")
                if (row := table.find(workers=workers, endpoint=endpoint, logins=n))
                else Spread([])
                for n in logins
            ]
    _grouped_bars(axes, [f"{n} concurrent logins" for n in logins], series)
    axes.axhline(TARGET_P99_RATIO, color="red", linestyle="--", label=f"target: 2{TIMES} idle p99")
    axes.axhline(1.0, color="grey", linewidth=0.8)
    axes.set_ylabel("p99 latency / idle p99")
    axes.set_title("Event-loop health: probe p99 under concurrent login load (bcrypt cost 12)")
    axes.legend(fontsize="small")
    return _save(figure, path)


def login_throughput(table: Table, path: Path) -> bool:
    if not table.rows:
        return False
    figure, axes = plt.subplots(figsize=(8, 4.5))
    series = {
        "theoretical (cores / hash time)": [row.figure("theoretical") for row in table.rows],
        "achieved": [row.figure("achieved") for row in table.rows],
    }
    _grouped_bars(axes, [f"cost {row.labels['cost']}" for row in table.rows], series)
    axes.set_ylabel("logins/s")
    axes.set_title("Login throughput vs bcrypt cost (16 concurrent clients)")
    return _save(figure, path)


def request_cost(table: Table, path: Path) -> bool:
    """Server CPU per request as a multiple of the floor, every operation on every store."""
    if not table.rows:
        return False
    stores = list(dict.fromkeys(str(row.labels["store"]) for row in table.rows))
    operations = list(dict.fromkeys(str(row.labels["op"]) for row in table.rows))
    figure, axes = plt.subplots(figsize=(10, 0.45 * len(operations) + 1.5))
    height = 0.8 / max(1, len(stores))
    for index, store in enumerate(stores):
        spreads = [
            row.figure("cpu_vs_floor") if (row := table.find(store=store, op=op)) else Spread([])
            for op in operations
        ]
        positions = [o + (index - (len(stores) - 1) / 2) * height for o in range(len(operations))]
        axes.barh(
            positions,
            [s.median for s in spreads],
            height,
            xerr=_errors(spreads),
            capsize=2,
            label=store,
        )
    axes.set_yticks(range(len(operations)), operations)
    axes.invert_yaxis()
    axes.axvline(1.0, color="grey", linewidth=0.8)
    axes.set_xscale("log")
    axes.set_xlabel(f"server CPU per request {TIMES} the floor's (median of per-round ratios)")
    axes.set_title("Request path cost against the framework floor")
    axes.legend()
    return _save(figure, path)


def registry_growth(table: Table, path: Path) -> bool:
    if not table.rows:
        return False
    sizes = [int(row.labels["organizations"]) for row in table.rows]
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for key, label in (
        ("create_p50", "sign-up p50"),
        ("create_p99", "sign-up p99"),
        ("get_p50", "/org/get p50"),
        ("get_p99", "/org/get p99"),
    ):
        axes.plot(sizes, [row.figure(key).median for row in table.rows], marker="o", label=label)
    axes.set_xscale("log")
    axes.set_xlabel("organizations in the registry")
    axes.set_ylabel("ms (open-loop, from each request's due time)")
    axes.set_title("Latency against registry size, recovery sweep and placement running")
    axes.legend()
    return _save(figure, path)


def rename_cost(table: Table, path: Path) -> bool:
    if not table.rows:
        return False
    figure, axes = plt.subplots(figsize=(8, 4.5))
    series = dict.fromkeys((str(r.labels["store"]), str(r.labels["strategy"])) for r in table.rows)
    for store, strategy in series:
        rows = [
            row
            for row in table.rows
            if row.labels["strategy"] == strategy and row.labels["store"] == store
        ]
        spreads = [row.figure("seconds") for row in rows]
        axes.errorbar(
            [int(row.labels["documents"]) for row in rows],
            [s.median for s in spreads],
            yerr=_errors(spreads),
            marker="o",
            capsize=3,
            label=f"{strategy} ({store})",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("documents in the tenant collection")
    axes.set_ylabel("PUT /org/update, seconds")
    axes.set_title("Rename cost vs tenant size")
    axes.legend()
    return _save(figure, path)


def placement_cost(runs: list[GrowthRun], path: Path) -> bool:
    """The placement bench's main and control runs: p50 latencies and the fullest tenant
    database's listing time against the number of organizations."""
    drawn = [run for run in runs if run.plan.key in {"main", "control"} and run.steps]
    if not drawn:
        return False
    figure, (latency, listing) = plt.subplots(1, 2, figsize=(12, 4.8))
    for run in drawn:
        style = "-" if run.plan.key == "main" else "--"
        label = f"{run.plan.databases} db"
        xs = [step.organizations for step in run.steps]
        for (name, attribute), color in zip(
            SERIES, ("tab:blue", "tab:orange", "tab:green"), strict=True
        ):
            latency.plot(
                xs,
                [getattr(step, attribute).p50_ms for step in run.steps],
                style,
                color=color,
                marker="o",
                label=f"{name} p50, {label}",
            )
        listing.plot(
            xs,
            [step.listing_ms for step in run.steps],
            style,
            color="tab:purple",
            marker="o",
            label=label,
        )
    latency.set_xlabel("organizations")
    latency.set_ylabel("ms")
    latency.set_title("Request latency (p50) on the in-memory store")
    latency.legend(fontsize="small")
    listing.set_xlabel("organizations")
    listing.set_ylabel("ms")
    listing.set_title("Listing the fullest tenant database's collections")
    listing.legend(fontsize="small")
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> bool:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def draw_all(tables: dict[str, Table], out: Path) -> list[str]:
    """Draw every chart whose scenario has data; return the file names written."""
    drawers = {
        "event_loop_health": event_loop_health,
        "login_throughput": login_throughput,
        "request_cost": request_cost,
        "rename_cost": rename_cost,
        "registry_growth": registry_growth,
    }
    written: list[str] = []
    for key, draw in drawers.items():
        table = tables.get(key)
        if table is not None and draw(table, out / f"{key}.png"):
            written.append(f"{key}.png")
    return written
