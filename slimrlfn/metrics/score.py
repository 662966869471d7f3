"""The NTIRE Efficient SR main-track score and sub-scores, relative to a year's baseline (lower is better).

::

    score = w_T exp(2 T / T_0) + w_F exp(2 F / F_0) + w_P exp(2 P / P_0)

with T the runtime, F the FLOPs and P the parameters, T_0, F_0, P_0 the baseline's, and the weights of the year
(:mod:`slimrlfn.metrics.years`: 0.7 / 0.15 / 0.15 in 2024 and 2025 relative to RLFN and EFDN, 0.8 / 0.1 / 0.1 in
2026 relative to SPAN), as the challenge READMEs state it ("Score_Runtime = exp(2*Runtime / Runtime_RLFN)", ...,
"Score_Final = 0.7*Score_Runtime + 0.15*Score_FLOPs + 0.15*Score_Params"). The baseline scores e^2 = 7.389. A
sub-track ranks by its own sub-score ``exp(2 m / m_0)``. Runtimes in any one unit (ms), FLOPs and parameters in
any one unit each (G, M).
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Tuple

from slimrlfn.metrics.years import YEARS, ChallengeYear

__all__ = ["NTIRE_WEIGHTS", "PSNR_GATES", "SCORE_YEAR", "challenge_score", "ntire_score", "sub_score"]

#: The year whose rules the workbook scores against RLFN by default (the pruning explorer, the factsheet).
SCORE_YEAR = "2024"
#: (runtime, FLOPs, params) weights of :data:`SCORE_YEAR` (from its year record).
NTIRE_WEIGHTS: Tuple[float, float, float] = YEARS[SCORE_YEAR].weights  # type: ignore[assignment]
#: The PSNR gates of :data:`SCORE_YEAR` (dB, RGB, border 4) by split (from its year record).
PSNR_GATES: Dict[str, float] = dict(YEARS[SCORE_YEAR].gates or {})


def ntire_score(runtime_ms: float, flops_g: float, params_m: float,
                runtime_rlfn_ms: float, flops_rlfn_g: float, params_rlfn_m: float,
                weights: Tuple[float, float, float] = NTIRE_WEIGHTS) -> float:
    """The NTIRE ESR main-track score relative to a baseline (see the module docstring); lower is better.

    ``inf`` when a ratio is past the range of ``exp`` (a runtime over about 350x the baseline's, as a stall of a
    tiny model can give): such a model ranks last instead of stopping the computation.
    """
    w_time, w_flops, w_params = weights
    return (w_time * _exp(2.0 * runtime_ms / runtime_rlfn_ms) + w_flops * _exp(2.0 * flops_g / flops_rlfn_g)
            + w_params * _exp(2.0 * params_m / params_rlfn_m))


def sub_score(value: float, baseline_value: float) -> float:
    """A sub-track's score ``exp(2 value / baseline_value)`` (``inf`` past the range of ``exp``)."""
    return _exp(2.0 * value / baseline_value)


def challenge_score(record: ChallengeYear, runtime_ms: float, flops_g: float, params_m: float) -> Optional[float]:
    """The main-track score under ``record``'s weights, relative to its baseline's stated figures; None when the
    record has no weights or baseline figures (2022, 2023)."""
    base = record.baseline.measures()
    if record.weights is None or base is None:
        return None
    return ntire_score(runtime_ms, flops_g, params_m, base[0], base[1], base[2], record.weights)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf
