"""What the scenarios hand to the report: tables of figures summarised over repeated runs."""

import math
import statistics
from dataclasses import dataclass, field

from bench.stores import StoreKind

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

    # A MongoDB to measure on besides the in-memory store and the stand-in ("" for none).
    mongo_uri: str
    repeats: int
    quick: bool
    stores: tuple[StoreKind, ...]
    login_seconds: int
    cell_seconds: int
    cell_rounds: int
    rename_sizes: tuple[int, ...]
    copy_sizes: tuple[int, ...]
    registry_sizes: tuple[int, ...]
    registry_seconds: int
    probe_seconds: float
    cell_connections: int = 16
    login_concurrencies: tuple[int, ...] = (8, 32, 64)
    bcrypt_costs: tuple[int, ...] = (10, 11, 12)
    # How often the open-loop prober sends, whatever happened to the probes before.
    probe_interval_ms: float = 10.0
    # Registry growth: a short recovery sweep interval, so that a window sees several.
    sweep_interval_seconds: int = 5
    # A second instance's start-up on the grown registry is given this long.
    growth_startup_limit_seconds: float = 150.0
    # Once one rename configuration has used this much time, it is not repeated again.
    rename_budget_seconds: float = 120.0

    @property
    def growth_store(self) -> StoreKind:
        """Where the registry grows: the given MongoDB, else the stand-in (the in-memory store
        cannot be filled from outside the service's process, and scans)."""
        return "mongodb" if self.mongo_uri else "wire"

    @classmethod
    def build(cls, mongo_uri: str, repeats: int, quick: bool) -> "Plan":
        stores: tuple[StoreKind, ...] = ("memory", "wire", *(("mongodb",) if mongo_uri else ()))
        if quick:
            return cls(
                mongo_uri=mongo_uri,
                repeats=1,
                quick=True,
                stores=stores,
                login_seconds=5,
                cell_seconds=1,
                cell_rounds=2,
                rename_sizes=(1_000,),
                copy_sizes=(1_000,),
                registry_sizes=(100, 1_000),
                registry_seconds=5,
                probe_seconds=3.0,
                login_concurrencies=(32,),
                bcrypt_costs=(12,),
                rename_budget_seconds=20.0,
                sweep_interval_seconds=2,
                growth_startup_limit_seconds=60.0,
            )
        return cls(
            mongo_uri=mongo_uri,
            repeats=repeats,
            quick=False,
            stores=stores,
            login_seconds=8,
            cell_seconds=2,
            cell_rounds=5,
            rename_sizes=(1_000, 10_000, 100_000),
            copy_sizes=(1_000, 10_000),
            registry_sizes=(100, 1_000, 10_000),
            registry_seconds=20,
            probe_seconds=6.0,
        )
