"""``slimrlfn prune`` / ``python -m slimrlfn.prune``: iterative structured pruning with distillation fine-tuning.

The command maps its flags onto :class:`slimrlfn.prune.settings.PruneSettings` and runs
:func:`slimrlfn.prune.schedule.prune_iteratively`; the surgery is in :mod:`slimrlfn.prune.groups`, the
criteria in :mod:`slimrlfn.prune.criteria`, the measurements in :mod:`slimrlfn.prune.measure`. Example, SlimRLFN to the
shape of SlimRLFN-prune, one channel per layer per step, 200 fine-tuning iterations per step::

    slimrlfn prune --model slimrlfn --target_shape slimrlfn_prune --channels_per_step 1 \\
        --hr_dir ../shared/datasets/McMaster --val_dir data/sample --out_dir runs/prune
    slimrlfn eval --checkpoint runs/prune/final.pth --data_dir data/sample

Any other SR network (``--model path/to/file.py:Class`` or ``--challenge_repo DIR --model_id N``) goes
through :mod:`slimrlfn.prune.anyschedule` instead: ``--steps`` steps, each removing ``--fraction`` of every
channel group Torch-Pruning can prune, fine-tuned in inference mode, measured on every ``--val_dirs``
folder; each step a derived checkpoint (``slimrlfn eval --checkpoint runs/prune_any/step_03.pth``)::

    slimrlfn prune --challenge_repo ../shared/ntire2024_esr --model_id 38 --steps 3 --fraction 0.1 \
        --hr_dir ../shared/datasets/McMaster --val_dirs ../shared/datasets/Set5 ../shared/datasets/Set14 \
        --out_dir runs/prune_span
"""
from __future__ import annotations

import argparse

from slimrlfn.arch.source import resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.prune.anyschedule import AnyPruneSettings, prune_any_iteratively
from slimrlfn.prune.criteria import CRITERIA, REDUCTIONS
from slimrlfn.prune.plan import RANKS
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings
from slimrlfn.prune.units import UNIT_KINDS

__all__ = ["add_arguments", "run_from_args", "settings_from_args"]

_DEFAULTS = PruneSettings()


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The flags of ``slimrlfn prune`` (defaults: :class:`slimrlfn.prune.settings.PruneSettings`)."""
    d = _DEFAULTS
    what = parser.add_argument_group("what to prune")
    what.add_argument("--model", default=d.model,
                      help="starting model: a zoo name or a checkpoint .pth (default: slimrlfn), or any SR class "
                           "path/to/file.py:ClassName (then the any-model schedule, see --steps)")
    anymodel = parser.add_argument_group("any other SR network (a class or a challenge entry): the any-model schedule")
    anymodel.add_argument("--challenge_repo", default=None, help="an NTIRE ESR challenge repository; with --model_id")
    anymodel.add_argument("--model_id", type=int, default=None, help="the entry of --challenge_repo to prune")
    anymodel.add_argument("--checkpoint", default=None, help="the weights of --model's class")
    anymodel.add_argument("--kwargs", default=None, help="constructor arguments of --model's class, a JSON object")
    anymodel.add_argument("--data_range", type=float, default=None, help="1 (default for a class) or 255")
    anymodel.add_argument("--state_key", default=None, help="the key the checkpoint keeps the weights under")
    anymodel.add_argument("--steps", type=int, default=3, help="pruning steps (default: 3)")
    anymodel.add_argument("--fraction", type=float, default=0.1,
                          help="share of every prunable group's channels removed per step (default: 0.1)")
    anymodel.add_argument("--val_dirs", nargs="+", default=None,
                          help="validation folders, NTIRE layout or HR/ + LR_bicubic/X4/ (default: --val_dir)")
    anymodel.add_argument("--overwrite", action="store_true", help="start the run in --out_dir again")
    what.add_argument("--scope", nargs="+", choices=UNIT_KINDS, default=list(d.scope),
                      help="widths to prune: inner (c1_r/c2_r outputs, prune_channels), esa, feature (default: inner)")
    what.add_argument("--criterion", choices=CRITERIA, default=d.criterion, help="channel importance (default: l1)")
    what.add_argument("--reduction", choices=REDUCTIONS, default=d.reduction,
                      help="mean: norm over every coupled layer (group norm); first: the producing filter only")
    what.add_argument("--rank", choices=RANKS, default=d.rank,
                      help="per_layer: k channels from every layer; global: k in all, ranked across layers")
    what.add_argument("--channels_per_step", type=int, default=d.channels_per_step, help="k (default: 2)")
    what.add_argument("--multiple_of", type=int, default=d.multiple_of, help="keep pruned widths multiples of this")
    what.add_argument("--min_channels", type=int, default=d.min_channels, help="no layer below this width")
    what.add_argument("--latency_aware", action="store_true",
                      help="each step: time the candidates 'k channels from layer u' on this device, take the one "
                           "saving most latency per importance removed")
    stop = parser.add_argument_group("when to stop (every target given must be met)")
    stop.add_argument("--target_params", type=float, default=None, help="parameters, M")
    stop.add_argument("--target_flops", type=float, default=None, help="FLOPs (fvcore, 1x3x256x256), G")
    stop.add_argument("--target_latency", type=float, default=None, help="median latency on this device, ms")
    stop.add_argument("--target_shape", default=None,
                      help="a zoo name (slimrlfn_prune), a config .json or a JSON prune_channels list")
    stop.add_argument("--psnr_floor", type=float, default=None, help="stop when the validation PSNR falls below, dB")
    stop.add_argument("--max_steps", type=int, default=None)
    tune = parser.add_argument_group("fine-tuning after each step")
    tune.add_argument("--hr_dir", action="append", dest="hr_dirs", default=None,
                      help="folder of HR training images (repeatable)")
    tune.add_argument("--finetune_iterations", type=int, default=d.finetune_iterations)
    tune.add_argument("--finetune_minutes", type=float, default=None, help="per step, wall time")
    tune.add_argument("--batch_size", type=int, default=d.batch_size)
    tune.add_argument("--lr_patch", type=int, default=d.lr_patch, help="LR patch side (HR = 4x)")
    tune.add_argument("--lr", type=float, default=d.lr)
    tune.add_argument("--min_lr_ratio", type=float, default=d.min_lr_ratio)
    tune.add_argument("--distill_weight", type=float, default=d.distill_weight, help="lambda of L1 to the teacher")
    tune.add_argument("--teacher", default=d.teacher, help="start (the unpruned model), a zoo name, a .pth, or none")
    tune.add_argument("--taylor_batches", type=int, default=d.taylor_batches)
    tune.add_argument("--refit_patches", type=int, default=d.refit_patches,
                      help="after each cut, refit every convolution by least squares to the unpruned layer outputs "
                           "on this many LR patches of --hr_dir (0: off; 128 is a good start)")
    run = parser.add_argument_group("validation, timing, output")
    run.add_argument("--val_dir", default=d.val_dir, help="NTIRE-layout validation data (default: data/sample)")
    run.add_argument("--val_split", default=d.val_split)
    run.add_argument("--val_max_images", type=int, default=None)
    run.add_argument("--latency_size", type=int, default=d.latency_size, help="LR side of the timing input")
    run.add_argument("--latency_runs", type=int, default=d.latency_runs, help="at least this many timed pairs")
    run.add_argument("--latency_warmup", type=int, default=d.latency_warmup)
    run.add_argument("--latency_target", type=float, default=d.latency_target,
                     help="time pairs until the latency ratio's 95%% interval is +- this (0.03: 3%%) ...")
    run.add_argument("--latency_seconds", type=float, default=d.latency_seconds, help="... or for this many seconds")
    run.add_argument("--out_dir", default=d.out_dir, help="run folder; an existing run there is resumed")
    run.add_argument("--device", default=d.device, help="auto (CUDA when present), cpu, cuda or cuda:N")
    run.add_argument("--seed", type=int, default=d.seed)
    run.add_argument("--no_progress", action="store_true", help="no progress bars")
    return parser


def settings_from_args(args: argparse.Namespace) -> PruneSettings:
    """The :class:`PruneSettings` the parsed flags describe."""
    values = {key: getattr(args, key) for key in PruneSettings.__dataclass_fields__ if hasattr(args, key)}
    values["hr_dirs"] = list(args.hr_dirs or [])
    values["progress"] = not args.no_progress
    return PruneSettings(**values)


def _is_any_model(args: argparse.Namespace) -> bool:
    return args.challenge_repo is not None or ":" in str(args.model)


def run_any_model(args: argparse.Namespace) -> int:
    """The any-model schedule (:mod:`slimrlfn.prune.anyschedule`) as the flags say; one line per step. Returns 0."""
    spec = resolve_model(model=None if args.challenge_repo else args.model, checkpoint=args.checkpoint,
                         challenge_repo=args.challenge_repo, model_id=args.model_id, kwargs=args.kwargs,
                         data_range=args.data_range, state_key=args.state_key)
    out_dir = args.out_dir if args.out_dir != _DEFAULTS.out_dir else "runs/prune_any"
    settings = AnyPruneSettings(out_dir=out_dir, steps=args.steps, fraction=args.fraction, multiple_of=args.multiple_of,
                                val_dirs=list(args.val_dirs or [args.val_dir]), hr_dirs=list(args.hr_dirs or []),
                                finetune_iterations=args.finetune_iterations, batch_size=args.batch_size,
                                lr_patch=args.lr_patch, lr=args.lr, distill_weight=args.distill_weight,
                                latency_size=args.latency_size, latency_runs=args.latency_runs, seed=args.seed,
                                device=args.device, progress=not args.no_progress, overwrite=args.overwrite)
    run = prune_any_iteratively(spec, settings)
    last = run["steps"][-1]
    print(f"final model (step {last['step']}, {last['params_m']:.4f} M params, {last['flops_g']:.3f} G FLOPs, "
          f"{last['speedup']:.2f}x the start): {last.get('checkpoint', '-')}")
    return 0


def run_from_args(args: argparse.Namespace) -> int:
    """Run (or resume) the schedule; prints one line per step and the final checkpoint. Returns 0."""
    if _is_any_model(args):
        return run_any_model(args)
    for flag in ("checkpoint", "kwargs", "data_range", "state_key", "model_id", "val_dirs"):
        if getattr(args, flag) not in (None, []):
            raise UserError(f"--{flag}: only for any other SR network (--model file.py:Class or --challenge_repo)")
    summary = prune_iteratively(settings_from_args(args))
    print(f"final model (step {summary['final_step']}, {summary['final_psnr']:.3f} dB, "
          f"{summary['final_params_m']:.4f} M params, {summary['final_flops_g']:.3f} G FLOPs): "
          f"{summary['final_checkpoint']}  (slimrlfn eval --checkpoint {summary['final_checkpoint']})")
    return 0
