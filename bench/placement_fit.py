"""How cost grows: a least-squares line through each p50 series of a placement run."""

import math
import statistics
from dataclasses import dataclass

from bench.model import EN_DASH, TIMES
from bench.placement_model import SERIES, Step


@dataclass(frozen=True)
class Fit:
    """Least-squares line through one p50 series against the number of organizations present
    (for creates: the middle of the step's range)."""

    what: str
    slope_ms_per_thousand: float
    intercept_ms: float
    r_squared: float
    first: float
    last: float
    first_at: str
    last_at: str

    @property
    def ratio(self) -> float:
        return self.last / self.first if self.first > 0 else math.nan

    def describe(self) -> str:
        return (
            f"{self.what} p50: {self.first:.1f} ms {self.first_at}, {self.last:.1f} ms "
            f"{self.last_at} ({self.ratio:.1f}{TIMES}); fit: {self.intercept_ms:.1f} ms "
            f"{'-' if self.slope_ms_per_thousand < 0 else '+'} "
            f"{abs(self.slope_ms_per_thousand):.1f} ms per 1,000 organizations present "
            f"(r\u00b2 {self.r_squared:.3f})"
        )


def _present(step: Step, value: str) -> float:
    if value == "create":
        return (step.organizations_before + step.organizations) / 2
    return float(step.organizations)


def _at(step: Step, value: str) -> str:
    if value == "create":
        return f"for organizations {step.organizations_before + 1:,}{EN_DASH}{step.organizations:,}"
    return f"with {step.organizations:,} present"


def fit(what: str, steps: list[Step], value: str) -> Fit | None:
    measured = [step for step in steps if math.isfinite(getattr(step, value).p50_ms)]
    xs = [_present(step, value) for step in measured]
    ys = [float(getattr(step, value).p50_ms) for step in measured]
    if len(set(xs)) < 2:
        return None
    slope, intercept = statistics.linear_regression(xs, ys)
    r_squared = statistics.correlation(xs, ys) ** 2 if len(set(ys)) > 1 else math.nan
    return Fit(
        what,
        slope * 1000,
        intercept,
        r_squared,
        ys[0],
        ys[-1],
        _at(measured[0], value),
        _at(measured[-1], value),
    )


def fits(steps: list[Step]) -> dict[str, Fit]:
    """The fit of every latency series measured at two counts or more, by report name."""
    return {name: found for name, value in SERIES if (found := fit(name, steps, value))}
