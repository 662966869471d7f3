"""``slimrlfn prune`` / ``python -m slimrlfn.prune``: the one pruning run with distillation fine-tuning, any model.

The command maps its flags onto :class:`slimrlfn.prune.settings.PruneSettings` and runs
:func:`slimrlfn.prune.schedule.prune_iteratively`; the model flags are the house's
(:mod:`slimrlfn.arch.arguments`), the pruner follows from the model (:mod:`slimrlfn.prune.pruners`). Example,
SlimRLFN to the shape of SlimRLFN-prune, one channel per layer per step, 200 fine-tuning iterations per step::

    slimrlfn prune --model slimrlfn --target_shape slimrlfn_prune --channels_per_step 1 \\
        --hr_dir ../shared/datasets/McMaster --val_dir data/sample --out_dir runs/prune
    slimrlfn eval --checkpoint runs/prune/final.pth --data_dir data/sample

Any other SR network (``--model path/to/file.py:Class``, ``--model challenge:DIR#38`` or ``--challenge_repo DIR
--model_id N``) goes the same way with the ``any`` pruner, every criterion included; the flags it does not set
take the defaults it had before (``--fraction 0.1``, ``--steps 3``, ``--out_dir runs/prune_any``, ...); each step is
a derived checkpoint (``slimrlfn eval --checkpoint runs/prune_any/step_03/model.pth``)::

    slimrlfn prune --challenge_repo ../shared/ntire2024_esr --model_id 38 --steps 3 --fraction 0.1 \\
        --hr_dir ../shared/datasets/McMaster --val_dirs ../shared/datasets/Set5 ../shared/datasets/Set14 \\
        --out_dir runs/prune_span
"""
from __future__ import annotations

import argparse
from typing import Any, Dict

from slimrlfn.arch.arguments import add_model_arguments, model_ref_from_args
from slimrlfn.prune.criteria import CRITERIA, REDUCTIONS
from slimrlfn.prune.plan import RANKS
from slimrlfn.prune.pruners import PRUNERS, pruner_name
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings
from slimrlfn.prune.units import UNIT_KINDS

__all__ = ["add_arguments", "run_from_args", "settings_from_args"]

_DEFAULTS = PruneSettings()


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The flags of ``slimrlfn prune`` (defaults: :class:`PruneSettings`, and the pruner's, :data:`PRUNERS`)."""
    d = _DEFAULTS
    add_model_arguments(parser, model_default=d.model,
                        model_help="starting model, any model reference: a zoo name or workbook checkpoint .pth "
                                   "(RLFN / SlimRLFN), your class file.py:ClassName, challenge:DIR#ID, a derived "
                                   "model (default: slimrlfn)")
    what = parser.add_argument_group("what to prune")
    what.add_argument("--scope", nargs="+", choices=UNIT_KINDS, default=None,
                      help="RLFN / SlimRLFN widths to prune: inner (c1_r/c2_r outputs, prune_channels), esa, feature "
                           "(default: inner)")
    what.add_argument("--criterion", choices=CRITERIA, default=None, help="channel importance (default: l1)")
    what.add_argument("--reduction", choices=REDUCTIONS, default=None,
                      help="mean: norm over every coupled layer (group norm); first: the producing filter only")
    what.add_argument("--rank", choices=RANKS, default=None,
                      help="per_layer: k channels from every layer; global: k in all, ranked across layers")
    what.add_argument("--channels_per_step", type=int, default=None, help="k (default: 2)")
    what.add_argument("--fraction", type=float, default=None,
                      help="instead of k: this share of every layer's channels per step (default for a model other "
                           "than RLFN / SlimRLFN: 0.1)")
    what.add_argument("--multiple_of", type=int, default=None, help="keep pruned widths multiples of this")
    what.add_argument("--min_channels", type=int, default=None, help="no layer below this width")
    what.add_argument("--latency_aware", action="store_true", default=None,
                      help="each step: time the candidates 'k channels from layer u' on this device, take the one "
                           "saving most latency per importance removed")
    stop = parser.add_argument_group("when to stop (every target given must be met)")
    stop.add_argument("--target_params", type=float, default=None, help="parameters, M")
    stop.add_argument("--target_flops", type=float, default=None, help="FLOPs (fvcore, 1x3x256x256), G")
    stop.add_argument("--target_latency", type=float, default=None, help="median latency on this device, ms")
    stop.add_argument("--target_shape", default=None,
                      help="a zoo name (slimrlfn_prune), a config .json or a JSON prune_channels list")
    stop.add_argument("--psnr_floor", type=float, default=None, help="stop when the validation PSNR falls below, dB")
    stop.add_argument("--max_steps", "--steps", dest="max_steps", type=int, default=None,
                      help="at most this many steps (default for a model other than RLFN / SlimRLFN: 3)")
    tune = parser.add_argument_group("fine-tuning after each step")
    tune.add_argument("--hr_dir", action="append", dest="hr_dirs", default=None,
                      help="folder of HR training images (repeatable)")
    tune.add_argument("--finetune_iterations", type=int, default=None, help=f"per step (default {d.finetune_iterations})")
    tune.add_argument("--finetune_minutes", type=float, default=None, help="per step, wall time")
    tune.add_argument("--batch_size", type=int, default=None, help=f"default {d.batch_size}")
    tune.add_argument("--lr_patch", type=int, default=None, help=f"LR patch side (HR = 4x; default {d.lr_patch})")
    tune.add_argument("--lr", type=float, default=None, help=f"default {d.lr}")
    tune.add_argument("--min_lr_ratio", type=float, default=None, help=f"default {d.min_lr_ratio}")
    tune.add_argument("--distill_weight", type=float, default=None, help="lambda of L1 to the teacher (default 1)")
    tune.add_argument("--teacher", default=None,
                      help="start (the unpruned model, default), any model reference (another range is converted), "
                           "or none")
    tune.add_argument("--taylor_batches", type=int, default=None, help=f"default {d.taylor_batches}")
    tune.add_argument("--refit_patches", type=int, default=None,
                      help="RLFN / SlimRLFN: after each cut, refit every convolution by least squares to the unpruned "
                           "layer outputs on this many LR patches of --hr_dir (0: off, the default; 128 is a good start)")
    run = parser.add_argument_group("validation, timing, output")
    run.add_argument("--val_dir", default=None, help="NTIRE-layout validation data (default: data/sample)")
    run.add_argument("--val_dirs", nargs="+", default=None,
                     help="validation sets (NTIRE layout or HR/ + LR_bicubic/X4/), each one's PSNR recorded; the first "
                          "is --val_dir when that is not given")
    run.add_argument("--val_split", default=None)
    run.add_argument("--val_max_images", type=int, default=None)
    run.add_argument("--latency_size", type=int, default=None, help=f"LR side of the timing input ({d.latency_size})")
    run.add_argument("--latency_runs", type=int, default=None, help="at least this many timed pairs")
    run.add_argument("--latency_warmup", type=int, default=None)
    run.add_argument("--latency_target", type=float, default=None,
                     help="time pairs until the latency ratio's 95%% interval is +- this (0.03: 3%%) ...")
    run.add_argument("--latency_seconds", type=float, default=None, help="... or for this many seconds")
    run.add_argument("--out_dir", default=None, help="run folder; an existing run there is resumed (runs/prune)")
    run.add_argument("--overwrite", action="store_true", default=None, help="start again in an --out_dir with a run")
    run.add_argument("--device", default=None, help="auto (CUDA when present), cpu, cuda or cuda:N")
    run.add_argument("--seed", type=int, default=None)
    run.add_argument("--no_progress", action="store_true", help="no progress bars")
    return parser


def settings_from_args(args: argparse.Namespace) -> PruneSettings:
    """The :class:`PruneSettings` the parsed flags describe: the flags given, then the defaults of the model's pruner
    (:data:`PRUNERS`), then :class:`PruneSettings`'s."""
    ref = model_ref_from_args(args)
    given: Dict[str, Any] = {key: getattr(args, key) for key in PruneSettings.__dataclass_fields__
                             if getattr(args, key, None) is not None and key != "model"}
    if args.val_dirs and args.val_dir is None:
        given["val_dir"] = args.val_dirs[0]
    defaults = dict(PRUNERS[pruner_name(ref)].cli_defaults)
    stops = ("target_params", "target_flops", "target_latency", "target_shape", "psnr_floor", "max_steps")
    if any(key in given for key in stops):
        defaults.pop("max_steps", None)
    if "channels_per_step" in given or "rank" in given or "latency_aware" in given:
        defaults.pop("fraction", None)
    values = {**defaults, **given, "model": ref.to_json(), "hr_dirs": list(args.hr_dirs or []),
              "val_dirs": list(args.val_dirs or []), "progress": not args.no_progress}
    return PruneSettings(**values)


def run_from_args(args: argparse.Namespace) -> int:
    """Run (or resume) the pruning run; prints one line per step and the final checkpoint. Returns 0."""
    summary = prune_iteratively(settings_from_args(args))
    print(f"final model (step {summary['final_step']}, {summary['final_psnr']:.3f} dB, "
          f"{summary['final_params_m']:.4f} M params, {summary['final_flops_g']:.3f} G FLOPs): "
          f"{summary['final_checkpoint']}  (slimrlfn eval --checkpoint {summary['final_checkpoint']})")
    return 0
