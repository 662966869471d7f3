"""``slimrlfn profile``: params, fvcore FLOPs (and what fvcore skipped), ptflops MACs, activations and convs.

Any model: zoo names, workbook checkpoints, your classes, entries of a challenge repository
(:mod:`slimrlfn.arch.arguments`). fvcore's total is the challenge's FLOPs; the operators it skipped are
listed with their counts, and those that are not element-wise (FFT, custom autograd functions,
attention kernels) mark the total as an undercount.
"""
from __future__ import annotations

import argparse
from typing import Any, Dict, List

from slimrlfn.arch.arguments import add_models_arguments, models_from_args
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json
from slimrlfn.core.outputs import check_output_file
from slimrlfn.metrics.counts import profile_spec

__all__ = ["add_arguments", "format_counts", "run_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn profile`` flags."""
    add_models_arguments(parser, list(ZOO), with_checkpoint=True)
    parser.add_argument("--size", type=int, default=256, help="input side in pixels (NTIRE: 256)")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    return parser


def _macs(value: Any) -> str:
    return f"{value:.4f}" if value is not None else "n/a"


def format_counts(rows: List[Dict[str, Any]], size: int) -> str:
    """The rows as a text table, then each model's skipped fvcore operators."""
    width = max([len(r["model"]) for r in rows] + [16])
    lines = [f"fvcore FLOPs and ptflops MACs on 1x3x{size}x{size}; load fwd: forward passes the model's own code "
             f"runs while it loads (a warm-up before the first timed image)",
             f"{'model':{width}s} {'params [M]':>10s} {'FLOPs [G]':>10s} {'MACs pt [G]':>11s} {'MACs aten [G]':>13s} "
             f"{'acts [M]':>9s} {'convs':>5s} {'load fwd':>8s}  FLOPs"]
    for r in rows:
        flag = f"undercount: fvcore skipped {', '.join(r['fvcore_uncounted'])}" if r["fvcore_uncounted"] else "complete"
        check = r.get("flops_check") or {}
        if check.get("flagged"):
            families = ", ".join(f"{row['family']} {row['fvcore_g']:.3f}/{row['torch_g']:.3f}"
                                 for row in check["responsible"][:3])
            flag += (f"; PyTorch counts {check['torch_flops_g']:.4f} G ({100 * check['difference']:.1f} % apart; "
                     f"fvcore/PyTorch by family: {families})")
        forwards = "-" if r.get("load_forwards") is None else str(r["load_forwards"])
        lines.append(f"{r['model']:{width}s} {r['num_parameters']:10.4f} {r['flops']:10.4f} "
                     f"{_macs(r['macs_ptflops_pytorch']):>11s} {_macs(r['macs_ptflops_aten']):>13s} "
                     f"{r['activations']:9.4f} {r['num_conv']:5d} {forwards:>8s}  {flag}")
    lines.append("operators fvcore skipped (calls): element-wise ones are not counted by the challenge either")
    for r in rows:
        skipped = ", ".join(f"{op.split('::')[-1]} {n}" for op, n in r["fvcore_skipped"].items()) or "none"
        lines.append(f"  {r['model']}: {skipped}")
        for backend, error in r.get("ptflops_errors", {}).items():
            lines.append(f"  {r['model']}: ptflops ({backend}) could not count it: {error}")
    return "\n".join(lines)


def run_from_args(args: argparse.Namespace) -> int:
    """Count every model named, print the table (and write the rows to ``--json``); returns 0."""
    if args.size < 1:
        raise UserError(f"--size {args.size}: expected a positive number of pixels")
    if args.json:
        check_output_file(args.json, "--json")
    specs = models_from_args(args)
    rows = []
    for spec in specs:
        try:
            row = profile_spec(spec, (1, 3, args.size, args.size))
        except Exception as exc:  # an input the model cannot take (too small for its windows or pooling)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"--size {args.size}: {spec.label} cannot run a 1x3x{args.size}x{args.size} input "
                            f"({type(exc).__name__}: {first})") from None
        rows.append(row)
    print(format_counts(rows, args.size))
    if args.json:
        atomic_write_json(args.json, rows)
    return 0
