"""Statistics of measured samples: summaries, bootstrap intervals, ratios, warm-up length.

All in the unit of the input, float64: mean, median, quartiles and IQR, and bootstrap 95 %
confidence intervals (percentile method, fixed seed) of the median and of the mean; the ratio of
two statistics with a bootstrap interval (both samples resampled); the *paired* ratio of samples taken
alternately (ABAB...): the median of the per-pair ratios, with a bootstrap interval over the pairs (load
that hits both members of a pair alike cancels in its ratio).

Warm-up length: the *steady-state median* is the median of the last half of a trace
(``trace[n // 2:]``); the warm-up length is the number of leading iterations after which every
later iteration stays within ``tolerance`` (default 5 %) of that median. ``0`` means the trace
started warm; ``len(trace)`` means it never settled (for example a single late spike on a shared
CPU). ``window > 1`` applies the test to a trailing running median instead of the raw samples.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

__all__ = ["bootstrap_ci", "first_share", "intervals_overlap", "paired_ratio", "ratio_ci", "summarize",
           "warmup_length"]


def bootstrap_ci(values: Sequence[float], statistic: Callable[[np.ndarray], float] = np.median,
                 confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> Tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` (resampling with replacement, fixed seed)."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    if data.size == 1:
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, data.size, size=(n_boot, data.size))
    stats = np.array([statistic(data[row]) for row in draws])
    alpha = (1.0 - confidence) / 2.0
    return float(np.quantile(stats, alpha)), float(np.quantile(stats, 1.0 - alpha))


def summarize(values: Sequence[float], n_boot: int = 2000, seed: int = 0) -> Dict[str, Any]:
    """n, mean, std, cv, median, q1, q3, iqr, min, max and bootstrap 95 % CIs of median and mean."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        raise ValueError("summarize needs at least one value")
    mean = float(data.mean())
    std = float(data.std(ddof=1)) if data.size > 1 else 0.0
    q1, median, q3 = (float(v) for v in np.quantile(data, [0.25, 0.5, 0.75]))
    return {
        "n": int(data.size), "mean": mean, "std": std, "cv": std / mean if mean else float("nan"),
        "median": median, "q1": q1, "q3": q3, "iqr": q3 - q1,
        "min": float(data.min()), "max": float(data.max()),
        "ci_median": list(bootstrap_ci(data, np.median, n_boot=n_boot, seed=seed)),
        "ci_mean": list(bootstrap_ci(data, np.mean, n_boot=n_boot, seed=seed)),
    }


def ratio_ci(numerator: Sequence[float], denominator: Sequence[float], statistic: Callable = np.mean,
             confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> Dict[str, Any]:
    """``statistic(numerator) / statistic(denominator)`` with a bootstrap CI (both resampled)."""
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ValueError("ratio_ci needs values on both sides")
    ratio = float(statistic(a) / statistic(b))
    if a.size == 1 and b.size == 1:
        return {"ratio": ratio, "ci": [ratio, ratio], "n": [1, 1]}
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, a.size, size=(n_boot, a.size))
    ib = rng.integers(0, b.size, size=(n_boot, b.size))
    stats = np.array([statistic(a[i]) / statistic(b[j]) for i, j in zip(ia, ib)])
    alpha = (1.0 - confidence) / 2.0
    return {"ratio": ratio, "ci": [float(np.quantile(stats, alpha)), float(np.quantile(stats, 1 - alpha))],
            "n": [int(a.size), int(b.size)]}


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float], confidence: float = 0.95,
                 n_boot: int = 2000, seed: int = 0) -> Dict[str, Any]:
    """Median of ``numerator[i] / denominator[i]`` over pairs i, with a percentile bootstrap interval over the pairs.

    Returns ``{"ratio", "ci": [lo, hi], "pairs", "half_width"}``; ``half_width`` is half the interval relative to
    the ratio (0.03: +-3 %). One pair gives a zero-width interval; ValueError for unequal lengths or none.
    """
    a = np.asarray(numerator, dtype=np.float64)
    b = np.asarray(denominator, dtype=np.float64)
    if a.size != b.size or a.size == 0:
        raise ValueError(f"paired_ratio needs pairs: got {a.size} and {b.size} values")
    ratios = a / b
    ratio = float(np.median(ratios))
    lo, hi = bootstrap_ci(ratios, np.median, confidence, n_boot, seed)
    return {"ratio": ratio, "ci": [lo, hi], "pairs": int(a.size), "half_width": (hi - lo) / 2.0 / ratio}


def intervals_overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether the closed intervals ``[a0, a1]`` and ``[b0, b1]`` share a point."""
    return bool(a[0] <= b[1] and b[0] <= a[1])


def _running_median(data: np.ndarray, window: int) -> np.ndarray:
    return np.array([np.median(data[max(0, i - window + 1):i + 1]) for i in range(data.size)])


def warmup_length(trace: Sequence[float], tolerance: float = 0.05, window: int = 1) -> Dict[str, Any]:
    """Leading iterations until the trace stays within ``tolerance`` of its steady-state median.

    Steady-state median = median of ``trace[n // 2:]`` (the last half). Returns ``{"length",
    "steady_median", "settled", "tolerance", "window", "n"}``; ``settled`` is False when even the
    last iteration is outside the band (then ``length == n``). See the module docstring.
    """
    data = np.asarray(trace, dtype=np.float64)
    if data.size == 0:
        raise ValueError("warmup_length needs a non-empty trace")
    if window < 1:
        raise ValueError("window must be >= 1")
    steady = float(np.median(data[data.size // 2:]))
    probe = data if window == 1 else _running_median(data, window)
    outside = np.abs(probe - steady) > tolerance * steady
    bad = np.flatnonzero(outside)
    length = int(bad[-1] + 1) if bad.size else 0
    return {"length": length, "steady_median": steady, "settled": length < data.size,
            "tolerance": tolerance, "window": window, "n": int(data.size)}


def first_share(times_ms: Sequence[float]) -> Optional[float]:
    """Share of a run's total (and so of its mean) that its first sample accounts for."""
    data = np.asarray(times_ms, dtype=np.float64)
    if data.size == 0 or data.sum() <= 0:
        return None
    return float(data[0] / data.sum())
