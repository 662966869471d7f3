"""The settings of a pruning run (:class:`PruneSettings`), one record for every model, and their checks.

:data:`RUN_KEYS` are the settings that shape the result: a resumed run must have the same ones
(targets, the PSNR floor and ``max_steps`` may change). :func:`check_settings` refuses a bad value
with one line naming the flag, before anything is loaded or written: every number is checked for what it
means (NaN, infinities, zero where a count is needed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Optional

from slimrlfn.core.errors import UserError
from slimrlfn.prune.criteria import CRITERIA, REDUCTIONS
from slimrlfn.prune.plan import RANKS
from slimrlfn.prune.units import UNIT_KINDS

__all__ = ["RUN_KEYS", "PruneSettings", "check_settings"]

#: Settings that shape the result: a resumed run must have the same.
RUN_KEYS = ("model", "val_dir", "val_split", "val_max_images", "hr_dirs", "criterion", "reduction", "scope",
             "rank", "channels_per_step", "multiple_of", "min_channels", "latency_aware", "target_shape",
             "finetune_iterations", "finetune_minutes", "batch_size", "lr_patch", "lr", "min_lr_ratio",
             "distill_weight", "teacher", "taylor_batches", "latency_size", "seed", "refit_patches", "fraction",
             "val_dirs")


@dataclass
class PruneSettings:
    """Every setting of a pruning run (see the module docstring)."""

    model: Any = "slimrlfn"  # starting model: any model reference (slimrlfn.arch.ref.ModelRef's forms)
    out_dir: str = "runs/prune"
    val_dir: str = "data/sample"  # NTIRE-layout validation data
    val_split: str = "valid"
    val_max_images: Optional[int] = None
    val_dirs: List[str] = field(default_factory=list)  # more validation sets (NTIRE layout or HR/ + LR_bicubic/X4/)
    hr_dirs: List[str] = field(default_factory=list)  # HR images for fine-tuning (and Taylor scores)
    criterion: str = "l1"  # l1, l2, taylor, random
    reduction: str = "mean"  # mean: group norm over coupled layers; first: the root filter only
    scope: List[str] = field(default_factory=lambda: ["inner"])  # inner, esa, feature
    rank: str = "per_layer"  # per_layer or global
    channels_per_step: int = 2  # k
    fraction: Optional[float] = None  # instead of k: this share of every unit's channels per step (per layer)
    multiple_of: int = 1  # keep every pruned width a multiple of this
    min_channels: int = 1
    latency_aware: bool = False  # pick each step among "k from unit u" by measured latency saved
    target_params: Optional[float] = None  # M
    target_flops: Optional[float] = None  # G (fvcore, 1x3x256x256)
    target_latency: Optional[float] = None  # ms, median on this device at latency_size
    target_shape: Optional[Any] = None  # zoo name, config JSON path, config dict or prune_channels list
    psnr_floor: Optional[float] = None  # dB on the validation set
    max_steps: Optional[int] = None
    finetune_iterations: int = 100  # per step
    finetune_minutes: Optional[float] = None  # per step, wall time
    batch_size: int = 16
    lr_patch: int = 48
    lr: float = 1e-4
    min_lr_ratio: float = 0.1  # end of the per-step cosine, as a fraction of lr
    distill_weight: float = 1.0  # lambda of L1 to the teacher; 0: no teacher
    teacher: str = "start"  # start (the unpruned model), a zoo name, a checkpoint .pth, or none
    taylor_batches: int = 4
    refit_patches: int = 0  # > 0: after each cut, refit every conv by least squares on this many LR patches
    latency_size: int = 128  # LR side of the latency input
    latency_runs: int = 5  # at least this many timed pairs (model, RLFN)
    latency_warmup: int = 1
    latency_target: float = 0.03  # then on until the paired ratio's 95 % interval is +- this ...
    latency_seconds: float = 20.0  # ... or this many seconds of pairs have gone by
    device: str = "auto"
    seed: int = 0
    progress: bool = True
    overwrite: bool = False  # start again in an out_dir that holds another run


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_settings(s: PruneSettings) -> None:
    if s.criterion not in CRITERIA:
        raise UserError(f"--criterion {s.criterion!r}: expected one of {', '.join(CRITERIA)}")
    if s.reduction not in REDUCTIONS:
        raise UserError(f"--reduction {s.reduction!r}: expected one of {', '.join(REDUCTIONS)}")
    if s.rank not in RANKS:
        raise UserError(f"--rank {s.rank!r}: expected one of {', '.join(RANKS)}")
    if not s.scope or any(k not in UNIT_KINDS for k in s.scope):
        raise UserError(f"--scope {' '.join(s.scope)}: expected one or more of {', '.join(UNIT_KINDS)}")
    for key in ("channels_per_step", "multiple_of", "min_channels", "batch_size", "latency_size", "latency_runs",
                "taylor_batches"):
        if not isinstance(getattr(s, key), int) or getattr(s, key) < 1:
            raise UserError(f"--{key} {getattr(s, key)}: expected a positive integer")
    for key in ("finetune_iterations", "latency_warmup", "refit_patches"):
        if not isinstance(getattr(s, key), int) or getattr(s, key) < 0:
            raise UserError(f"--{key} {getattr(s, key)}: expected 0 or more")
    for key in ("max_steps", "val_max_images"):
        value = getattr(s, key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise UserError(f"--{key} {value}: expected a positive integer")
    for key in ("target_params", "target_flops", "target_latency", "finetune_minutes", "psnr_floor"):
        value = getattr(s, key)
        if value is not None and not (_number(value) and (value > 0 or key == "psnr_floor")):
            raise UserError(f"--{key} {value}: expected a {'finite' if key == 'psnr_floor' else 'positive'} number")
    if s.fraction is not None and not (_number(s.fraction) and 0 < s.fraction < 1):
        raise UserError(f"--fraction {s.fraction}: expected a number between 0 and 1 (the share of channels per step)")
    if s.fraction is not None and (s.rank != "per_layer" or s.latency_aware):
        raise UserError(f"--fraction {s.fraction}: a share of every layer per step; not with --rank {s.rank}"
                        f"{' or --latency_aware' if s.latency_aware else ''} (those take --channels_per_step)")
    if not (_number(s.lr) and s.lr > 0 and _number(s.min_lr_ratio) and 0 <= s.min_lr_ratio <= 1
            and _number(s.distill_weight) and s.distill_weight >= 0):
        raise UserError(f"--lr {s.lr} / --min_lr_ratio {s.min_lr_ratio} / --distill_weight {s.distill_weight}: "
                        f"expected lr > 0, 0 <= min_lr_ratio <= 1, distill_weight >= 0")
    for key in ("latency_target", "latency_seconds"):
        if not (_number(getattr(s, key)) and getattr(s, key) > 0):
            raise UserError(f"--{key} {getattr(s, key)}: expected a positive number")
    if s.latency_size < 15:
        raise UserError(f"--latency_size {s.latency_size}: expected at least 15 (the ESA branch needs it)")
    if all(getattr(s, k) is None for k in ("target_params", "target_flops", "target_latency", "target_shape",
                                          "psnr_floor", "max_steps")):
        raise UserError("no stop condition: give --target_params, --target_flops, --target_latency, "
                        "--target_shape, --psnr_floor or --max_steps (--steps)")
    needs_patches = s.finetune_iterations > 0 or s.criterion == "taylor" or s.refit_patches > 0
    if needs_patches and not s.hr_dirs:
        raise UserError("--hr_dir: fine-tuning (and the taylor criterion, and --refit_patches) needs a folder of HR "
                        "images; give --hr_dir, or --finetune_iterations 0 --refit_patches 0 with another criterion")
