"""Helpers shared by the benchmarks: figures printed beside their targets."""

from __future__ import annotations

import statistics


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(name: str, value: float, unit: str, target: float | None, *, lower_is_better=True) -> bool:
    """Print one figure and its target; return whether it meets it."""
    if target is None:
        print(f"{name:<48} {value:>10.2f} {unit:<6} (reported, no target)")
        return True
    ok = value <= target if lower_is_better else value >= target
    mark = "ok" if ok else "MISSED"
    sign = "≤" if lower_is_better else "≥"
    print(f"{name:<48} {value:>10.2f} {unit:<6} target {sign} {target:g} {unit}  {mark}")
    return ok


__all__ = ["percentile", "report", "statistics"]
