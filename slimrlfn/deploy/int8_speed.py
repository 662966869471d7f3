"""The speed-up of int8 over fp32 OpenVINO, from paired rounds: one figure with its interval, and its table cell.

Follows ``bench/deploy/int8_report.py`` (where these were first), which times the ``openvino`` and
``openvino_int8`` paths (:mod:`slimrlfn.deploy.backends`, :mod:`slimrlfn.deploy.int8`) in interleaved rounds, one
call of each per round in a shuffled order: the speed-up is the median of the per-round ratios fp32 / int8, with a
bootstrap 95 % interval over the rounds (:func:`slimrlfn.metrics.stats.paired_ratio`), so a slow minute of the
machine falls on both paths of its round.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping

from slimrlfn.metrics.stats import paired_ratio

__all__ = ["speedup", "speedup_cell"]


def speedup(timing: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """fp32 / int8 time over the paired rounds of ``timing`` (``{"openvino": {"ms": [...]}, "openvino_int8": {"ms":
    [...]}}``, one time per round and path): ``{"speedup", "ci": [lo, hi], "pairs"}``."""
    paired = paired_ratio(timing["openvino"]["ms"], timing["openvino_int8"]["ms"])
    return {"speedup": paired["ratio"], "ci": paired["ci"], "pairs": paired["pairs"]}


def speedup_cell(speed: Mapping[str, Any]) -> str:
    """A :func:`speedup` as a Markdown table cell: ``"1.50x [1.41, 1.62]"``."""
    return f"{speed['speedup']:.2f}x [{speed['ci'][0]:.2f}, {speed['ci'][1]:.2f}]"
