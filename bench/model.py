"""What the scenarios hand to the report: tables of figures summarised over repeated runs."""

import math
import statistics
from dataclasses import dataclass, field

EN_DASH = "\u2013"
TIMES = "\u00d7"


@dataclass(frozen=True)
class Spread:
    """One figure measured once per repeat, shown as the median with the range of the runs."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def low(self) -> float:
        return min(self.values) if self.values else float("nan")

    @property
    def high(self) -> float:
        return max(self.values) if self.values else float("nan")

    def render(self, digits: int) -> str:
        if not self.values:
            return "n/a"
        if len(self.values) == 1 or self.low == self.high:
            return f"{self.median:,.{digits}f}"
        return f"{self.median:,.{digits}f} ({self.low:,.{digits}f}{EN_DASH}{self.high:,.{digits}f})"

    def as_json(self) -> dict[str, object]:
        return {
            "median": _finite(self.median),
            "min": _finite(self.low),
            "max": _finite(self.high),
            "runs": [_finite(value) for value in self.values],
        }


def _finite(value: float) -> float | None:
    """JSON has no NaN: a figure nothing was measured for is null."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Metric:
    key: str
    header: str
    digits: int = 1


@dataclass(frozen=True)
class Row:
    labels: dict[str, str | int]
    figures: dict[str, Spread]

    def figure(self, key: str) -> Spread:
        return self.figures.get(key, Spread([]))


@dataclass
class Table:
    """One scenario's results. An empty table with a note is a scenario that was skipped."""

    key: str
    title: str
    label_headers: dict[str, str]
    metrics: list[Metric]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, object] = field(default_factory=dict)

    def find(self, **labels: str | int) -> Row | None:
        for row in self.rows:
            if all(row.labels.get(name) == value for name, value in labels.items()):
                return row
        return None

    def as_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "notes": self.notes,
            "rows": [
                {
                    **row.labels,
                    **{name: spread.as_json() for name, spread in row.figures.items()},
                }
                for row in self.rows
            ],
            **self.extra,
        }


def ratio(numerators: list[float], denominators: list[float]) -> Spread:
    """Per-repeat ratios, so each run is compared with the baseline measured beside it."""
    return Spread([n / d for n, d in zip(numerators, denominators, strict=False) if d > 0])


@dataclass(frozen=True)
class Plan:
    """How much to measure; `--quick` shrinks every count and duration."""

    mongo_uri: str
    repeats: int
    quick: bool
    probe_rounds: int
    login_seconds: float
    floor_seconds: float
    rename_sizes: tuple[int, ...]
    registry_sizes: tuple[int, ...]
    registry_requests: int
    login_concurrencies: tuple[int, ...] = (8, 32, 64)
    floor_concurrencies: tuple[int, ...] = (1, 16, 64)
    bcrypt_costs: tuple[int, ...] = (10, 11, 12)
    # Requests per load run never exceed this, whatever the duration.
    max_requests: int = 100_000
    # Once one rename configuration has used this much time, it is not repeated again.
    rename_budget_seconds: float = 200.0

    @property
    def in_memory(self) -> bool:
        return self.mongo_uri == "memory://"

    @classmethod
    def build(cls, mongo_uri: str, repeats: int, quick: bool) -> "Plan":
        if quick:
            return cls(
                mongo_uri=mongo_uri,
                repeats=repeats,
                quick=True,
                probe_rounds=100,
                login_seconds=3.0,
                floor_seconds=1.5,
                rename_sizes=(1_000, 10_000),
                registry_sizes=(100, 1_000),
                registry_requests=50,
                rename_budget_seconds=30.0,
            )
        return cls(
            mongo_uri=mongo_uri,
            repeats=repeats,
            quick=False,
            probe_rounds=300,
            login_seconds=10.0,
            floor_seconds=5.0,
            rename_sizes=(1_000, 10_000, 100_000),
            registry_sizes=(100, 1_000, 10_000),
            registry_requests=300,
        )
