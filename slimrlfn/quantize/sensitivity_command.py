"""``slimrlfn int8-sensitivity``: rank a model's convolutions by what int8 costs in each, to pick ``--keep_fp32``.

Example, SlimRLFN calibrated and checked on McMaster (about 8 minutes on 2 threads of this CPU), then QAT with the
three most sensitive convolutions kept in fp32 (the command prints that flag)::

    slimrlfn int8-sensitivity --model slimrlfn --calibration ../shared/datasets/McMaster --out runs/int8_sens/slimrlfn
    slimrlfn qat --model slimrlfn --hr_dir ../shared/datasets/McMaster --keep_fp32 c5/conv2d/5 ... --out runs/qat/s3

Writes ``sensitivity.json`` (:mod:`slimrlfn.quantize.sensitivity`) and ``sensitivity.png`` (dB taken back by each
convolution in graph order, and the drop against how many are kept in fp32) to ``--out``; started again with the same
flags it goes on from the measurements there.
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any, Dict

import torch

from slimrlfn.arch.arguments import add_model_arguments, model_from_args
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_bytes
from slimrlfn.quantize.sensitivity import DEFAULT_TOP, check_pairs_from_photos, rank_convolutions

__all__ = ["add_arguments", "plot_sensitivity", "run_from_args"]

PLOT_FILE = "sensitivity.png"


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The flags of ``slimrlfn int8-sensitivity``."""
    add_model_arguments(parser)
    parser.add_argument("--out", default="runs/int8_sensitivity", help="folder for sensitivity.json and .png")
    parser.add_argument("--calibration", default=None,
                        help="folder of HR photos for the quantizers' ranges (default: the embedded sample's)")
    parser.add_argument("--check_dir", default=None,
                        help="folder of HR photos the drop is measured on (LR by MATLAB bicubic; default: the "
                             "calibration photos, so that the choice is not made on the test sets)")
    parser.add_argument("--top", type=int, nargs="+", default=list(DEFAULT_TOP),
                        help="keep the top k in fp32 together, for each k (the frontier)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    return parser


def plot_sensitivity(result: Dict[str, Any], path: Path) -> Path:
    """Two panels, written atomically to ``path`` (PNG): the dB each convolution's staying in fp32 takes back, in
    graph order, and the drop against the number of top-ranked convolutions kept in fp32 (0 = QAT's default)."""
    import matplotlib.pyplot as plt

    rows = result["convolutions"]
    fig, (bars, frontier) = plt.subplots(1, 2, figsize=(12, 3.6), gridspec_kw={"width_ratios": [3, 1]})
    bars.bar(range(len(rows)), [row["gain_db"] for row in rows], color="tab:blue")
    bars.set_xticks(range(len(rows)), [row["conv"].replace("/conv2d/", "#") for row in rows], rotation=90, fontsize=6)
    bars.set_ylabel("dB taken back in fp32")
    bars.set_title(f"{result.get('source') or 'model'}: int8 drop {result['base_drop_db']:.3f} dB with every inner "
                   f"conv quantized", fontsize=9)
    ks = [0] + [row["k"] for row in result["frontier"]]
    drops = [result["base_drop_db"]] + [row["drop_db"] for row in result["frontier"]]
    frontier.plot(ks, drops, marker="o")
    frontier.set_xlabel("top convolutions kept in fp32")
    frontier.set_ylabel("drop dB (post-training)")
    frontier.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())


def run_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """Rank the model's convolutions as the flags say; prints the top ten, the frontier and the ``--keep_fp32``
    flag of each of its points."""
    for flag in ("calibration", "check_dir"):
        folder = getattr(args, flag)
        if folder is not None and not Path(folder).is_dir():
            raise UserError(f"--{flag} {folder}: expected a folder of HR images")
    if any(k < 1 for k in args.top):
        raise UserError(f"--top {' '.join(map(str, args.top))}: expected counts of 1 or more")
    if args.threads is not None:
        if args.threads < 1:
            raise UserError(f"--threads {args.threads}: expected 1 or more")
        torch.set_num_threads(args.threads)
    spec = model_from_args(args)
    pairs = check_pairs_from_photos(args.check_dir if args.check_dir is not None else args.calibration, spec.scale)
    result = rank_convolutions(spec.model.cpu().eval(), args.out, args.calibration, pairs,
                               data_range=spec.data_range, top=args.top, source=spec.result_name)
    plot_sensitivity(result, Path(args.out) / PLOT_FILE)
    gains = {row["conv"]: row["gain_db"] for row in result["convolutions"]}
    print(f"{spec.result_name}: post-training int8 drop {result['base_drop_db']:.3f} dB on {result['check_images']} "
          f"check images; most sensitive convolutions (dB taken back when kept in fp32):")
    for name in result["ranking"][:10]:
        print(f"  {name:32s} {gains[name]:+.4f}")
    for row in result["frontier"]:
        print(f"top {row['k']} in fp32: drop {row['drop_db']:.3f} dB   --keep_fp32 {' '.join(row['keep_fp32'])}")
    print(f"wrote {Path(args.out) / 'sensitivity.json'} and {Path(args.out) / PLOT_FILE}")
    return result
