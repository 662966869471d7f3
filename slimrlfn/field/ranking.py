"""From a field's measurements to its rankings: runtimes per protocol, scores, ranks, Kendall's tau, movers, pairs.

- Runtimes (ms): ``cold`` is the official protocol, the mean over runs of each run's runtime (one fresh
  process per run, valid then test, no warm-up), with the runs' standard deviation; ``warm`` is the mean
  of runs 2..N of N consecutive runs in one process (None with one run).
- Scores (lower is better), relative to the baseline under the same protocol
  (:func:`slimrlfn.metrics.score.ntire_score`), under the weights of each year asked for, from its year record
  (:mod:`slimrlfn.metrics.years`); by default one year per distinct weighting
  (:func:`slimrlfn.metrics.years.weighting_years`: 2024, whose 0.7 / 0.15 / 0.15 2025 kept, and 2026's
  0.8 / 0.1 / 0.1). The baseline scores e^2 = 7.389 under each.
- Ranks: 1 is the best score; ties keep the members' order.
- Kendall's tau-b between the cold and the warm scores (in [-1, 1]; 1 when the orders agree).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from slimrlfn.metrics.score import ntire_score
from slimrlfn.metrics.years import YEARS, scored_year, weighting_years

__all__ = ["PROTOCOL_NAMES", "WEIGHTS", "kendall_tau", "protocol_runtimes", "rank_order", "rankings", "scores"]

#: The score weights (runtime, FLOPs, params) of each distinct weighting, by its first year (from the year records).
WEIGHTS: Dict[str, Tuple[float, float, float]] = {
    year: YEARS[year].weights for year in weighting_years()}  # type: ignore[misc]
#: The two runtime protocols a field is ranked under.
PROTOCOL_NAMES = ("cold", "warm")


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b of two paired sequences (ties allowed); nan for fewer than 2 items or a constant one."""
    if len(a) != len(b):
        raise ValueError(f"kendall_tau: {len(a)} and {len(b)} values; expected pairs")
    concordant = discordant = ties_a = ties_b = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            da, db = _order(a[i], a[j]), _order(b[i], b[j])
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif da == db:
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b))
    return float((concordant - discordant) / denominator) if denominator else float("nan")


def _order(x: float, y: float) -> int:
    """-1, 0 or 1 as x is below, equal to or above y (equal infinities are a tie)."""
    return 0 if x == y else (1 if x > y else -1)


def rank_order(values: Mapping[str, float]) -> Dict[str, int]:
    """``{key: rank}``, 1 for the lowest value; equal values keep their order in ``values``."""
    order = sorted(values, key=lambda k: (values[k], list(values).index(k)))
    return {key: place + 1 for place, key in enumerate(order)}


def protocol_runtimes(entry: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """``{"cold": {...}, "warm": {...}}`` of one entry: ``ms`` (mean), ``sd``, ``runs_ms`` (the runs used), ``n``."""
    cold = [r["runtime_ms"] for r in entry.get("cold", []) if r.get("status") == "ok"]
    warm_runs = sorted((r for r in entry.get("warm", []) if r.get("status") == "ok" and r.get("kind") == "run"),
                       key=lambda r: r["run"])
    warm = [r["runtime_ms"] for r in warm_runs if r["process_run"] > 1]

    def stats(values: List[float]) -> Dict[str, Any]:
        return {"ms": float(np.mean(values)) if values else None,
                "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
                "runs_ms": values, "n": len(values)}

    return {"cold": stats(cold), "warm": stats(warm)}


def scores(runtime_ms: Mapping[str, float], flops_g: Mapping[str, float], params_m: Mapping[str, float],
           baseline: str, weights: Tuple[float, float, float]) -> Dict[str, float]:
    """The score of every key with a runtime, relative to ``baseline`` (which must have one)."""
    return {key: ntire_score(ms, flops_g[key], params_m[key], runtime_ms[baseline], flops_g[baseline],
                             params_m[baseline], weights) for key, ms in runtime_ms.items()}


def rankings(runtimes: Mapping[str, Mapping[str, Optional[float]]], flops_g: Mapping[str, float],
             params_m: Mapping[str, float], baseline: str, years: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Scores, ranks and tau of every protocol and year (``years``: default :data:`WEIGHTS`'s).

    ``runtimes`` is ``{protocol: {key: ms or None}}``. Returns ``{"scores": {year: {protocol: {key: score}}},
    "ranks": {year: {protocol: {key: rank}}}, "tau": {year: tau}, "compared": [keys ranked under both]}``;
    a protocol whose baseline has no runtime ranks nobody.
    """
    out: Dict[str, Any] = {"scores": {}, "ranks": {}, "tau": {}}
    have = {p: {k: v for k, v in runtimes[p].items() if v is not None} for p in PROTOCOL_NAMES}
    both = [k for k in have["cold"] if k in have["warm"]]
    out["compared"] = both
    for year in (years or list(WEIGHTS)):
        weights: Tuple[float, float, float] = scored_year(year).weights  # type: ignore[assignment]
        out["scores"][year], out["ranks"][year] = {}, {}
        for protocol in PROTOCOL_NAMES:
            known = have[protocol]
            values = scores(known, flops_g, params_m, baseline, weights) if baseline in known else {}
            out["scores"][year][protocol] = values
            out["ranks"][year][protocol] = rank_order(values)
        cold, warm = out["scores"][year]["cold"], out["scores"][year]["warm"]
        common = [k for k in both if k in cold and k in warm]
        out["tau"][year] = kendall_tau([cold[k] for k in common], [warm[k] for k in common]) if len(common) > 1 else None
    return out
