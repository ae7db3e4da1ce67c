"""Robust statistics for the detectors: median, MAD, modified z-scores, quantiles."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Iglewicz and Hoaglin's rule: a modified z-score above 3.5 is an outlier.
OUTLIER_Z = 3.5


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return math.nan
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def quantile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def modified_z(values: Sequence[float]) -> list[float]:
    """0.6745·(x − median)/MAD per value; when over half the values are equal (MAD 0)
    the mean absolute deviation stands in (scaled to match, 1.2533), as Iglewicz and
    Hoaglin advise. All zeros when every value is the same."""
    med = median(values)
    deviations = [abs(v - med) for v in values]
    mad = median(deviations)
    if mad > 0:
        return [0.6745 * (v - med) / mad for v in values]
    mean_ad = sum(deviations) / len(deviations) if deviations else 0.0
    if mean_ad == 0:
        return [0.0 for _ in values]
    return [(v - med) / (1.2533 * mean_ad) for v in values]
