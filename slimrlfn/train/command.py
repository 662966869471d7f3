"""``slimrlfn train``: its flags and what they run (see :mod:`slimrlfn.train.run`).

A few settings have flags of their own; every setting of :class:`slimrlfn.train.config.TrainConfig`
can be given through ``--config FILE`` or ``--set key=value``.
"""
from __future__ import annotations

import argparse
import os

from slimrlfn.train.config import load_config
from slimrlfn.train.run import train

__all__ = ["add_arguments", "run_from_args"]

#: Explicit flags -> config keys (everything else through --config or --set).
_FLAGS = {
    "hr_dir": ("hr_dirs", dict(nargs="+", help="folder(s) of HR training images")),
    "val_dir": ("val_dir", dict(help="NTIRE-layout validation data (DIV2K_LSDIR_valid_HR / _LR)")),
    "out_dir": ("out_dir", dict(help="where logs, checkpoints and the final model go (default runs/train)")),
    "init": ("init", dict(help="start from deploy weights: a zoo name or a checkpoint .pth")),
    "iterations": ("iterations", dict(type=int, help="training iterations (default 10000)")),
    "batch_size": ("batch_size", dict(type=int, help="patches per iteration and rank (default 16)")),
    "lr_patch": ("lr_patch", dict(type=int, help="LR patch side (default 64)")),
    "lr": ("lr", dict(type=float, help="peak learning rate (default 5e-4)")),
    "loss": ("loss", dict(help="l1 (default), charbonnier or l2")),
    "teacher": ("teacher", dict(help="zoo name or checkpoint .pth (default rlfn); none: no distillation")),
    "distill_weight": ("distill_weight", dict(type=float, help="lambda of the distillation term (default 1)")),
    "ema_decay": ("ema_decay", dict(type=float, help="EMA decay, e.g. 0.999 (default 0: off)")),
    "device": ("device", dict(help="auto (CUDA when present), cpu, cuda or cuda:N")),
    "workers": ("workers", dict(type=int, help="DataLoader workers per rank (default 2)")),
    "seed": ("seed", dict(type=int, help="seed of the initialisation and the patch stream (default 0)")),
    "stop_at": ("stop_at", dict(type=int, help="stop and save at this iteration (the schedule still spans --iterations)")),
    "max_minutes": ("max_minutes", dict(type=float, help="stop and save after this many minutes of training")),
}


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn train`` flags."""
    parser.add_argument("--config", default=None, help="a JSON or YAML file of settings (keys of TrainConfig)")
    for flag, (_, kwargs) in _FLAGS.items():
        parser.add_argument(f"--{flag}", default=None, **kwargs)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="any setting, value as JSON (repeatable; applied last)")
    parser.add_argument("--resume", nargs="?", const="auto", default=None, metavar="STATE",
                        help="continue the run in --out_dir (or from this train_state.pt)")
    parser.add_argument("--overwrite", action="store_true", default=None, help="start over in an --out_dir that has a run")
    parser.add_argument("--no_progress", dest="progress", action="store_false", default=None, help="no progress bar")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Train as the parsed arguments say; returns 0 (UserError on bad input)."""
    overrides = {key: getattr(args, flag) for flag, (key, _) in _FLAGS.items()}
    overrides.update(resume=args.resume, overwrite=args.overwrite, progress=args.progress)
    config = load_config(args.config, overrides, args.sets)
    summary = train(config)
    if int(os.environ.get("RANK", "0")) == 0:
        psnr = summary["val_psnr"]
        print(f"trained to iteration {summary['iteration']} of {summary['iterations']}"
              f"{f', validation PSNR {psnr:.3f} dB' if psnr is not None else ''}; "
              f"fused model: {summary.get('checkpoint')}")
    return 0
