"""The percentile the benchmarks report: nearest rank, the sample at int(fraction * n)."""

from __future__ import annotations

from collections.abc import Iterable


def percentile(samples: Iterable[float], fraction: float) -> float:
    """Return the sorted samples' value at rank int(fraction * n); nan when there are none."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
