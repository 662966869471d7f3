"""``slimrlfn data pairs|sample``: datasets in the NTIRE layout, from a folder of HR images or the embedded sample."""
from __future__ import annotations

import argparse

from slimrlfn.core.errors import UserError
from slimrlfn.core.outputs import check_output_dir
from slimrlfn.data.pairs import make_pairs
from slimrlfn.data.sample import make_sample

#: The splits of the NTIRE layout (DIV2K_LSDIR_<split>_HR / _LR).
SPLITS = ("valid", "test", "train")

__all__ = ["SPLITS", "add_arguments", "run_from_args", "run_pairs", "run_sample"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``slimrlfn data`` and its two sub-commands."""
    sub = parser.add_subparsers(dest="data_command", required=True)
    pairs = sub.add_parser("pairs", help="HR folder -> mod-cropped HR + MATLAB-bicubic LR")
    pairs.add_argument("--hr_dir", required=True)
    pairs.add_argument("--out_dir", required=True)
    pairs.add_argument("--split", default="valid",
                       help="the split the folders are named for: DIV2K_LSDIR_<split>_HR/_LR (valid, test or train)")
    pairs.add_argument("--scale", type=int, default=4)
    sample = sub.add_parser("sample", help="the embedded default set (scikit-image photos)")
    sample.add_argument("--out_dir", default="data/sample")
    return parser


def run_pairs(args: argparse.Namespace) -> int:
    """``slimrlfn data pairs``; returns 0."""
    if args.split not in SPLITS:
        raise UserError(f"--split {args.split!r}: expected one of {', '.join(SPLITS)} (the folders are "
                        f"DIV2K_LSDIR_<split>_HR and _LR)")
    check_output_dir(args.out_dir, "--out_dir")
    pairs = make_pairs(args.hr_dir, args.out_dir, args.split, args.scale)
    print(f"{len(pairs)} pairs written under {args.out_dir} (DIV2K_LSDIR_{args.split}_HR / _LR, x{args.scale})")
    return 0


def run_sample(args: argparse.Namespace) -> int:
    """``slimrlfn data sample``; returns 0."""
    check_output_dir(args.out_dir, "--out_dir")
    splits = make_sample(args.out_dir)
    print(", ".join(f"{len(p)} {s} pairs" for s, p in splits.items()) + f" written under {args.out_dir}")
    return 0


def run_from_args(args: argparse.Namespace) -> int:
    """Run the ``data`` sub-command named in ``args.data_command``."""
    return {"pairs": run_pairs, "sample": run_sample}[args.data_command](args)
