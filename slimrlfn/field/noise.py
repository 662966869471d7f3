"""How many runs a field's ranking needs before it stops changing: the runs resampled.

For k = 1..N runs, ``draws`` times: each entry's runtime is the mean of k of its own runs drawn with
replacement (the baseline's too); the entries are scored (``year``'s weights from its record in
:mod:`slimrlfn.metrics.years`, 2024 by default) and ranked. Against the ranking
of all N runs: the share of draws with the same ranking, and the mean Kendall's tau. ``runs_needed`` is
the smallest k from which on the share stays at or above ``agreement`` (0.95), None when it does not
within the N runs measured (more runs would be needed to say); ``runs_needed_tau`` the same for the mean tau
(a looser test: the order may still swap close neighbours). Seeded: the same field gives the same table.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from slimrlfn.field.ranking import kendall_tau, rank_order, scores
from slimrlfn.metrics.years import scored_year

__all__ = ["resample_rankings"]


def resample_rankings(runs_ms: Mapping[str, Sequence[float]], flops_g: Mapping[str, float],
                      params_m: Mapping[str, float], baseline: str, draws: int = 200, agreement: float = 0.95,
                      seed: int = 0, year: str = "2024") -> Dict[str, Any]:
    """``{"k", "same_ranking", "mean_tau", "runs_needed", "runs_needed_tau", "draws", "agreement", ...}`` (see above).

    ``runs_ms`` holds each entry's per-run runtimes (ms); entries with none are left out, and nothing is
    resampled (``k`` empty) when the baseline has none, fewer than 2 entries remain, or no entry has 2 runs
    (one run per entry has nothing to resample).
    """
    keys = [k for k, v in runs_ms.items() if len(v) > 0]
    result: Dict[str, Any] = {"k": [], "same_ranking": [], "mean_tau": [], "runs_needed": None,
                              "runs_needed_tau": None, "draws": draws,
                              "agreement": agreement, "year": year, "entries": keys}
    if baseline not in keys or len(keys) < 2 or max(len(runs_ms[k]) for k in keys) < 2:
        return result
    weights = scored_year(year).weights
    full_scores = scores({k: float(np.mean(runs_ms[k])) for k in keys}, flops_g, params_m, baseline, weights)
    full_rank = rank_order(full_scores)
    rng = np.random.default_rng(seed)
    most = max(len(runs_ms[k]) for k in keys)
    shares: List[float] = []
    for k in range(1, most + 1):
        same, taus = 0, []
        for _ in range(draws):
            runtime = {key: float(np.mean(rng.choice(np.asarray(runs_ms[key], dtype=float), size=k, replace=True)))
                       for key in keys}
            drawn = scores(runtime, flops_g, params_m, baseline, weights)
            same += rank_order(drawn) == full_rank
            taus.append(kendall_tau([full_scores[key] for key in keys], [drawn[key] for key in keys]))
        result["k"].append(k)
        shares.append(same / draws)
        result["mean_tau"].append(float(np.nanmean(taus)))
    result["same_ranking"] = shares
    result["runs_needed"] = _first_stable(shares, agreement)
    result["runs_needed_tau"] = _first_stable(result["mean_tau"], agreement)
    return result


def _first_stable(shares: Sequence[float], agreement: float) -> Optional[int]:
    for index in range(len(shares)):
        if all(share >= agreement for share in shares[index:]):
            return index + 1
    return None
