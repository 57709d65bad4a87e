"""Percentiles of measured latencies, and the summary the placement bench reports per batch.

Two percentile definitions, on purpose: the load generator's figures are nearest-rank (always
a latency that was actually observed), the placement bench's interpolate between ranks (its
batches are small: nearest-rank p95 of 20 renames would be their maximum). Each bench's
published figures were measured with its own definition.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def nearest_rank_percentile(values: Sequence[float], share: float) -> float:
    """The value at rank ceil(share x n): always one that was actually observed."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def interpolated_percentile(values: Sequence[float], share: float) -> float:
    """Linear interpolation between the two closest ranks (numpy's default, "linear")."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Latency:
    """Milliseconds over one batch of requests (interpolated percentiles)."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Latency":
        ms = [value * 1000 for value in seconds]
        return cls(
            count=len(ms),
            p50_ms=interpolated_percentile(ms, 0.50),
            p95_ms=interpolated_percentile(ms, 0.95),
            p99_ms=interpolated_percentile(ms, 0.99),
            max_ms=max(ms) if ms else math.nan,
            mean_ms=statistics.fmean(ms) if ms else math.nan,
        )
