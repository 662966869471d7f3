"""``slimrlfn qat`` / ``python -m slimrlfn.quantize``: quantization-aware fine-tuning to an int8 OpenVINO IR.

Example, SlimRLFN fine-tuned for 600 iterations on McMaster, then evaluated through its int8 IR behind the PSNR
gate (the drop is measured against the same fp32 model)::

    slimrlfn qat --model slimrlfn --hr_dir ../shared/datasets/McMaster --iterations 600 \\
        --val_dir ../shared/datasets/Set5 --out runs/qat/slimrlfn
    slimrlfn eval --model slimrlfn --backend openvino_int8 --int8_model runs/qat/slimrlfn --data_dir data/sample

An interrupted run resumes from its last save when started again with the same flags.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict, List

import torch

from slimrlfn.arch.arguments import add_model_arguments, model_from_args
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json
from slimrlfn.data.images import modcrop, read_image
from slimrlfn.data.pairs import find_pairs
from slimrlfn.deploy.backends import build_backend
from slimrlfn.deploy.int8 import psnr_drop
from slimrlfn.quantize.qat import QatSettings, run_qat

__all__ = ["add_arguments", "run_from_args", "val_drops"]

_DEFAULTS = QatSettings()
CHECK_FILE = "check.json"


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The flags of ``slimrlfn qat`` (defaults: :class:`slimrlfn.quantize.qat.QatSettings`)."""
    add_model_arguments(parser)
    parser.add_argument("--hr_dir", nargs="+", required=True, help="folders of HR photos for the fine-tuning patches")
    parser.add_argument("--out", default="runs/qat", help="the run folder (resumed when it holds the same run)")
    parser.add_argument("--iterations", type=int, default=_DEFAULTS.iterations)
    parser.add_argument("--minutes", type=float, default=None, help="wall-clock cap of the fine-tune, minutes")
    parser.add_argument("--lr", type=float, default=_DEFAULTS.lr, help="peak learning rate (cosine to 0.1 x)")
    parser.add_argument("--batch_size", type=int, default=_DEFAULTS.batch_size)
    parser.add_argument("--lr_patch", type=int, default=_DEFAULTS.lr_patch, help="LR patch side, pixels")
    parser.add_argument("--distill_weight", type=float, default=_DEFAULTS.distill_weight,
                        help="weight of L1 to the fp32 model (0: HR only)")
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed)
    parser.add_argument("--save_every", type=int, default=_DEFAULTS.save_every, help="iterations between saves")
    parser.add_argument("--keep_fp32", nargs="*", default=[], metavar="CONV",
                        help="NNCF names of convolutions kept in fp32 besides the first and the last (mixed "
                             "precision; `slimrlfn int8-sensitivity` ranks them and prints this flag)")
    parser.add_argument("--calibration", default=None,
                        help="folder of HR photos for the initial ranges (default: the embedded sample's)")
    parser.add_argument("--val_dir", nargs="*", default=[],
                        help="folders of LR/HR pairs (NTIRE layout or Set5-style HR/ + LR_bicubic/X4/) to measure "
                             "the PSNR drop of the int8 IR against the fp32 model on (written to check.json)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    return parser


def val_drops(model: torch.nn.Module, out: Path, folders: List[str], scale: int,
              data_range: float) -> Dict[str, Dict[str, float]]:
    """The PSNR drop (fp32 - int8, dB; :func:`slimrlfn.deploy.int8.psnr_drop`) of the run's IR on every pair of
    each folder, whole images."""
    cpu = torch.device("cpu")
    int8 = build_backend("openvino_int8", model, cpu, check=False, int8_model=str(out), data_range=data_range)
    drops = {}
    for folder in folders:
        pairs = [{"lr": read_image(p.lr_path), "hr": modcrop(read_image(p.hr_path), scale)}
                 for p in find_pairs(folder, "valid", scale, flag="--val_dir")]
        drops[folder] = psnr_drop(int8, model, pairs, cpu, data_range)
    return drops


def run_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """Run (or resume) the QAT run the flags describe; prints its record and the drops on ``--val_dir``."""
    for folder in args.hr_dir:
        if not Path(folder).is_dir():
            raise UserError(f"--hr_dir {folder}: expected a folder of HR images")
    if args.calibration is not None and not Path(args.calibration).is_dir():
        raise UserError(f"--calibration {args.calibration}: expected a folder of HR images")
    if args.threads is not None:
        if args.threads < 1:
            raise UserError(f"--threads {args.threads}: expected 1 or more")
        torch.set_num_threads(args.threads)
    settings = QatSettings(args.iterations, args.minutes, args.lr, args.batch_size, args.lr_patch,
                           args.distill_weight, args.seed, args.save_every, tuple(args.keep_fp32))
    spec = model_from_args(args)
    spec.model.cpu().eval()
    for folder in args.val_dir:
        find_pairs(folder, "valid", spec.scale, flag="--val_dir")  # a bad folder fails before the fine-tune
    record = run_qat(spec.model, args.hr_dir, args.out, settings, args.calibration, spec.result_name,
                     data_range=spec.data_range)
    print(f"{args.out}: {record['iterations']} QAT iterations in {record['seconds'] / 60:.1f} min "
          f"({record['threads']} threads), loss {record['loss_first']:.4f} -> {record['loss_last']:.4f}")
    check = {}
    if args.val_dir:
        check = val_drops(spec.model.eval(), Path(args.out), args.val_dir, spec.scale, spec.data_range)
        atomic_write_json(Path(args.out) / CHECK_FILE, check)
        for folder, drop in check.items():
            print(f"{folder}: fp32 {drop['fp32_db']:.3f} dB, int8 {drop['int8_db']:.3f} dB, "
                  f"drop {drop['drop_db']:.3f} dB on {drop['images']} images")
    return {"record": record, "check": check}
