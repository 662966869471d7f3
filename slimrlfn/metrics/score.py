"""The NTIRE 2024 ESR main-track score of a model, relative to the RLFN baseline (lower is better).

::

    score = 0.7 * exp(2 * runtime / runtime_RLFN) + 0.15 * exp(2 * FLOPs / FLOPs_RLFN)
            + 0.15 * exp(2 * params / params_RLFN)

RLFN itself scores e^2 = 7.389. The weights (0.7 runtime, 0.15 FLOPs, 0.15 params) and the
exponential of twice the ratio to RLFN are the ones this workbook was given for the challenge's main
track; the report (Ren et al., "The Ninth NTIRE 2024 Efficient Super-Resolution Challenge Report",
CVPRW 2024) describes the main track as a weighted sum of the sub-track scores with RLFN as the
baseline. Runtimes in any one unit (ms), FLOPs and parameters in any one unit each (G, M).
"""
from __future__ import annotations

import math
from typing import Dict, Tuple

__all__ = ["NTIRE_WEIGHTS", "PSNR_GATES", "ntire_score"]

#: (runtime, FLOPs, params) weights of the NTIRE 2024 ESR main-track score.
NTIRE_WEIGHTS: Tuple[float, float, float] = (0.7, 0.15, 0.15)
#: The PSNR gates of the NTIRE ESR challenges (dB, RGB, border 4) by split: DIV2K_LSDIR valid and test.
PSNR_GATES: Dict[str, float] = {"valid": 26.90, "test": 26.99}


def ntire_score(runtime_ms: float, flops_g: float, params_m: float,
                runtime_rlfn_ms: float, flops_rlfn_g: float, params_rlfn_m: float,
                weights: Tuple[float, float, float] = NTIRE_WEIGHTS) -> float:
    """The NTIRE ESR main-track score relative to RLFN (see the module docstring); lower is better.

    ``inf`` when a ratio is past the range of ``exp`` (a runtime over about 350x the baseline's, as a stall of a
    tiny model can give): such a model ranks last instead of stopping the computation.
    """
    w_time, w_flops, w_params = weights
    return (w_time * _exp(2.0 * runtime_ms / runtime_rlfn_ms) + w_flops * _exp(2.0 * flops_g / flops_rlfn_g)
            + w_params * _exp(2.0 * params_m / params_rlfn_m))


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf
