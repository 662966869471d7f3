"""When a pruning run stops, and what it refuses before it starts: minimum widths, step sizes, targets.

Part of the one pruning run (:mod:`slimrlfn.prune.schedule`), for both pruners (:mod:`slimrlfn.prune.pruners`).
Every refusal is one :class:`~slimrlfn.core.errors.UserError` line naming the flag, raised before the run folder
is touched.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

from slimrlfn.core.errors import UserError
from slimrlfn.prune.plan import fraction_count, next_chunk, per_layer_count
from slimrlfn.prune.settings import PruneSettings

__all__ = ["check_start", "check_step_size", "metric_targets", "minimum_widths", "stop_reason"]


def minimum_widths(s: PruneSettings, start: Mapping[str, int], scope: Sequence[str],
                   target: Optional[Mapping[str, int]], blocks: Mapping[str, int]) -> Dict[str, int]:
    """The smallest width each unit of ``scope`` may reach: ``min_channels``, ``multiple_of`` and its block, or the
    target shape's width (``start`` and ``target`` cover every unit of the architecture). UserError when the
    target shape is unreachable or already met."""
    if target is None:
        return {u: min(max(s.min_channels, s.multiple_of, blocks[u]), start[u]) for u in scope}
    for unit, width in target.items():
        if width > start[unit]:
            raise UserError(f"--target_shape is unreachable: {unit} would grow from {start[unit]} to {width} "
                            f"channels; pruning only removes channels")
        if width < start[unit] and unit not in scope:
            kind = unit.split(".")[-1] if unit != "features" else "feature"
            kind = "inner" if kind in ("c1_r", "c2_r") else kind
            raise UserError(f"--target_shape is unreachable with --scope {' '.join(s.scope)}: {unit} must go from "
                            f"{start[unit]} to {width} channels; add {kind} to --scope")
    if all(target[u] == start[u] for u in target):
        raise UserError("--target_shape is already met: the starting model has that shape")
    return {u: target[u] for u in scope}


def check_step_size(s: PruneSettings, start: Mapping[str, int], minimums: Mapping[str, int]) -> None:
    """UserError when one step would empty a unit (``--channels_per_step`` too large for the narrowest unit)."""
    if s.fraction is not None:
        return
    k = s.channels_per_step
    active = [u for u in start if start[u] > minimums[u]]
    if s.rank == "global" and not s.latency_aware:
        total = sum(start[u] for u in active)
        if active and k >= total:
            raise UserError(f"--channels_per_step {k} would remove every channel of --scope "
                            f"{' '.join(s.scope)} ({total} channels); expected fewer than {total}")
        return
    for unit in active:
        if k >= start[unit]:
            raise UserError(f"--channels_per_step {k} would remove every channel of {unit} ({start[unit]} channels); "
                            f"expected fewer than {min(start[u] for u in active)} (the narrowest layer in --scope)")


def metric_targets(s: PruneSettings) -> Dict[str, Tuple[float, str]]:
    """``{record key: (target, flag)}`` of the targets given."""
    pairs = (("params_m", s.target_params, "--target_params"), ("flops_g", s.target_flops, "--target_flops"),
             ("latency_ms", s.target_latency, "--target_latency"))
    return {key: (value, flag) for key, value, flag in pairs if value is not None}


def check_start(s: PruneSettings, first: Mapping[str, Any], resuming: bool,
                reach: Callable[[bool], Dict[str, float]]) -> None:
    """Refusals against the measured start: a floor not below its PSNR, targets it meets already, targets no width in
    scope can reach (``reach(with_latency)``: the counts, and latency, of every unit at its minimum)."""
    if s.psnr_floor is not None and s.psnr_floor >= first["psnr_after"]:
        raise UserError(f"--psnr_floor {s.psnr_floor} dB is not below the starting PSNR "
                        f"{first['psnr_after']:.3f} dB on {s.val_dir}; expected a floor below it")
    if resuming:
        return
    given = metric_targets(s)
    if given and all(first[key] <= value for key, (value, _) in given.items()):
        text = ", ".join(f"{flag} {value} (start: {first[key]:.4g})" for key, (value, flag) in given.items())
        raise UserError(f"target already met by the starting model: {text}; expected targets below it")
    if given:
        lowest = reach("latency_ms" in given)
        for key, (value, flag) in given.items():
            if lowest[key] > value:
                raise UserError(f"{flag} {value} is unreachable: every unit of --scope {' '.join(s.scope)} at its "
                                f"minimum width still gives {lowest[key]:.4g}; widen --scope or raise the target")


def stop_reason(s: PruneSettings, last: Mapping[str, Any], widths: Mapping[str, int], minimums: Mapping[str, int],
                multiples: Mapping[str, int], target: Optional[Mapping[str, int]]) -> Optional[str]:
    """Why the run stops after the step ``last`` (widths now ``widths``), or None to go on."""
    if s.psnr_floor is not None and last["psnr_after"] < s.psnr_floor:
        return "psnr_floor"
    given = metric_targets(s)
    if given and all(last[key] <= value for key, (value, _) in given.items()):
        return "target"
    if target is not None and all(widths[u] <= minimums[u] for u in widths):
        return "target_shape"
    if s.max_steps is not None and last["step"] >= s.max_steps:
        return "max_steps"
    if s.fraction is not None:
        left = [fraction_count(widths[u], s.fraction, minimums[u], multiples[u], multiples[u]) for u in widths]
    else:
        left = [per_layer_count(widths[u], s.channels_per_step, multiples[u], minimums[u])
                + next_chunk(widths[u], multiples[u], minimums[u]) for u in widths]
    return "exhausted" if not any(left) else None
