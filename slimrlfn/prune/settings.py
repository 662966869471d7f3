"""The settings of an iterative pruning run (:class:`PruneSettings`) and their checks.

:data:`RUN_KEYS` are the settings that shape the result: a resumed run must have the same ones
(targets, the PSNR floor and ``max_steps`` may change). :func:`check_settings` refuses a bad value
with one line naming the flag, before anything is loaded or written.
"""
from __future__ import annotations

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
             "distill_weight", "teacher", "taylor_batches", "latency_size", "seed", "refit_patches")


@dataclass
class PruneSettings:
    """Every setting of a pruning run (see the module docstring)."""

    model: str = "slimrlfn"  # starting model: a zoo name or a checkpoint .pth (config beside it)
    out_dir: str = "runs/prune"
    val_dir: str = "data/sample"  # NTIRE-layout validation data
    val_split: str = "valid"
    val_max_images: Optional[int] = None
    hr_dirs: List[str] = field(default_factory=list)  # HR images for fine-tuning (and Taylor scores)
    criterion: str = "l1"  # l1, l2, taylor, random
    reduction: str = "mean"  # mean: group norm over coupled layers; first: the root filter only
    scope: List[str] = field(default_factory=lambda: ["inner"])  # inner, esa, feature
    rank: str = "per_layer"  # per_layer or global
    channels_per_step: int = 2  # k
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



def check_settings(s: PruneSettings) -> None:
    if s.criterion not in CRITERIA:
        raise UserError(f"--criterion {s.criterion!r}: expected one of {', '.join(CRITERIA)}")
    if s.reduction not in REDUCTIONS:
        raise UserError(f"--reduction {s.reduction!r}: expected one of {', '.join(REDUCTIONS)}")
    if s.rank not in RANKS:
        raise UserError(f"--rank {s.rank!r}: expected one of {', '.join(RANKS)}")
    if not s.scope or any(k not in UNIT_KINDS for k in s.scope):
        raise UserError(f"--scope {' '.join(s.scope)}: expected one or more of {', '.join(UNIT_KINDS)}")
    for key in ("channels_per_step", "multiple_of", "min_channels", "batch_size", "latency_size", "latency_runs"):
        if getattr(s, key) < 1:
            raise UserError(f"--{key} {getattr(s, key)}: expected a positive integer")
    for key in ("finetune_iterations", "taylor_batches", "latency_warmup", "refit_patches"):
        if getattr(s, key) < 0:
            raise UserError(f"--{key} {getattr(s, key)}: expected 0 or more")
    if s.max_steps is not None and s.max_steps < 1:
        raise UserError(f"--max_steps {s.max_steps}: expected a positive integer")
    for key in ("target_params", "target_flops", "target_latency", "finetune_minutes"):
        value = getattr(s, key)
        if value is not None and not value > 0:
            raise UserError(f"--{key} {value}: expected a positive number")
    if s.lr <= 0 or not 0 <= s.min_lr_ratio <= 1 or s.distill_weight < 0:
        raise UserError(f"--lr {s.lr} / --min_lr_ratio {s.min_lr_ratio} / --distill_weight {s.distill_weight}: "
                        f"expected lr > 0, 0 <= min_lr_ratio <= 1, distill_weight >= 0")
    for key in ("latency_target", "latency_seconds"):
        if not getattr(s, key) > 0:
            raise UserError(f"--{key} {getattr(s, key)}: expected a positive number")
    if s.latency_size < 15:
        raise UserError(f"--latency_size {s.latency_size}: expected at least 15 (the ESA branch needs it)")
    if all(getattr(s, k) is None for k in ("target_params", "target_flops", "target_latency", "target_shape",
                                          "psnr_floor", "max_steps")):
        raise UserError("no stop condition: give --target_params, --target_flops, --target_latency, "
                        "--target_shape, --psnr_floor or --max_steps")
    needs_patches = s.finetune_iterations > 0 or s.criterion == "taylor" or s.refit_patches > 0
    if needs_patches and not s.hr_dirs:
        raise UserError("--hr_dir: fine-tuning (and the taylor criterion, and --refit_patches) needs a folder of HR "
                        "images; give --hr_dir, or --finetune_iterations 0 --refit_patches 0 with another criterion")
