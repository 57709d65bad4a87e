"""The placement bench's results files: placement.md, placement.json and placement_cost.png."""

from dataclasses import asdict

from bench import charts
from bench.placement_fit import fits
from bench.placement_model import GrowthRun, Options
from bench.placement_report import CHART, render_markdown
from bench.report import RunInfo, write_json


def run_json(run: GrowthRun) -> dict[str, object]:
    return {
        "plan": asdict(run.plan),
        "seconds": run.seconds,
        "cpu": run.cpu,
        "failure": run.failure,
        "problems": run.problems,
        "steps": [
            {
                **asdict(step),
                "spread": {"min": step.spread[0], "max": step.spread[1]},
            }
            for step in run.steps
        ],
        "final_check": asdict(run.final) if run.final is not None else None,
        "fits": {name: asdict(found) for name, found in fits(run.steps).items()},
    }


def write_results(info: RunInfo, options: Options, runs: list[GrowthRun]) -> None:
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    # Drawn first: the page links the chart only when it exists.
    if not charts.placement_cost(runs, out / CHART):
        (out / CHART).unlink(missing_ok=True)
    (out / "placement.md").write_text(render_markdown(info, options, runs))
    document = {
        "run": {
            **info.as_json(),
            "options": {key: str(value) for key, value in asdict(options).items()},
        },
        "ok": not any(run.problems for run in runs),
        "runs": {run.plan.key: run_json(run) for run in runs},
    }
    write_json(out / "placement.json", document)
