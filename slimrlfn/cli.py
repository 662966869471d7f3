"""The ``slimrlfn`` command: sub-commands call the modules, nothing more.

``slimrlfn eval`` (the NTIRE ``test_demo.py`` flags), ``slimrlfn profile``, ``slimrlfn zoo``,
``slimrlfn data pairs|sample``, ``slimrlfn export``, ``slimrlfn backends``,
``slimrlfn factsheet``, ``slimrlfn workbook``. A user error prints one line
``slimrlfn: error: ...`` on stderr and exits with status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, NoReturn, Optional

from .errors import UserError

__all__ = ["build_parser", "main"]


def _cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import run_from_args

    run_from_args(args)
    return 0


def _cmd_time(args: argparse.Namespace) -> int:
    from .timing_study import run_from_args

    return run_from_args(args)


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import run_from_args

    return run_from_args(args)


def _cmd_prune(args: argparse.Namespace) -> int:
    from .prune import run_from_args

    return run_from_args(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import run_from_args

    return run_from_args(args)


def _cmd_backends(args: argparse.Namespace) -> int:
    from .backend_bench import run_from_args

    run_from_args(args)
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    from .evaluate import resolve_model
    from .profile import profile_model

    names = args.models if not args.checkpoint else [None]
    rows = []
    for name in names:
        spec = resolve_model(model=name, checkpoint=args.checkpoint, config=args.config)
        counts = profile_model(spec.model, (1, 3, args.size, args.size))
        rows.append({"model": spec.label, **counts})
    header = f"{'model':16s} {'params [M]':>10s} {'FLOPs [G]':>10s} {'MACs pt [G]':>11s} {'MACs aten [G]':>13s} {'acts [M]':>9s} {'convs':>5s}"
    print(f"fvcore FLOPs and ptflops MACs on 1x3x{args.size}x{args.size}")
    print(header)
    for r in rows:
        print(f"{r['model']:16s} {r['num_parameters']:10.4f} {r['flops']:10.4f} {r['macs_ptflops_pytorch']:11.4f} "
              f"{r['macs_ptflops_aten']:13.4f} {r['activations']:9.4f} {r['num_conv']:5d}")
    if args.json:
        from .files import atomic_write_json

        atomic_write_json(args.json, rows)
    return 0


def _cmd_zoo(args: argparse.Namespace) -> int:
    from .zoo import ZOO, find_checkpoint

    for name, entry in ZOO.items():
        if args.verify:
            path = find_checkpoint(name)
            print(f"{name:15s} {entry.file:28s} sha256 ok  {path}")
        else:
            print(f"{name:15s} {entry.file:28s} {json.dumps(entry.config['prune_channels'])}")
    return 0


def _cmd_data_pairs(args: argparse.Namespace) -> int:
    from .data import make_pairs

    pairs = make_pairs(args.hr_dir, args.out_dir, args.split, args.scale)
    print(f"{len(pairs)} pairs written under {args.out_dir} (DIV2K_LSDIR_{args.split}_HR / _LR, x{args.scale})")
    return 0


def _cmd_data_sample(args: argparse.Namespace) -> int:
    from .data import make_sample

    splits = make_sample(args.out_dir)
    print(", ".join(f"{len(p)} {s} pairs" for s, p in splits.items()) + f" written under {args.out_dir}")
    return 0


def _cmd_workbook(args: argparse.Namespace) -> int:
    from .workbook import run_workbook

    summary = run_workbook(mode=args.mode, data_dir=args.data_dir, device=args.device,
                           only=args.only, out_dir=args.out_dir)
    return 0 if all(row["status"] == "ok" for row in summary["notebooks"]) else 1


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``slimrlfn: error: ...``), exit status 2."""

    def error(self, message: str) -> "NoReturn":  # type: ignore[override]
        self.exit(2, f"slimrlfn: error: {self.prog.split(' ', 1)[-1]}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (sub-commands)."""
    from .evaluate import add_arguments as add_eval_arguments
    from .prune import add_arguments as add_prune_arguments
    from .train import add_arguments as add_train_arguments
    from .timing_study import add_arguments as add_time_arguments
    from .zoo import ZOO

    parser = _OneLineParser(prog="slimrlfn", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p_eval = sub.add_parser("eval", help="PSNR/SSIM/runtime as NTIRE's test_demo.py (same flags)")
    add_eval_arguments(p_eval).set_defaults(func=_cmd_eval)

    p_time = sub.add_parser("time", help="warm-up timing study: cold vs warm, separate processes vs consecutive runs")
    add_time_arguments(p_time).set_defaults(func=_cmd_time)

    p_train = sub.add_parser("train", help="train SlimRLFN: reparameterizable blocks + distillation (torchrun for several devices)")
    add_train_arguments(p_train).set_defaults(func=_cmd_train)

    p_prune = sub.add_parser("prune", help="iterative structured pruning with distillation fine-tuning (records.jsonl, step_NN/)")
    add_prune_arguments(p_prune).set_defaults(func=_cmd_prune)

    p_prof = sub.add_parser("profile", help="params, fvcore FLOPs, ptflops MACs, activations, convs")
    p_prof.add_argument("--models", nargs="+", choices=sorted(ZOO), default=list(ZOO))
    p_prof.add_argument("--checkpoint", default=None)
    p_prof.add_argument("--config", default=None)
    p_prof.add_argument("--size", type=int, default=256, help="input side in pixels (NTIRE: 256)")
    p_prof.add_argument("--json", default=None, help="also write the rows to this JSON file")
    p_prof.set_defaults(func=_cmd_profile)

    p_zoo = sub.add_parser("zoo", help="list the official checkpoints (--verify: find and check them)")
    p_zoo.add_argument("--verify", action="store_true")
    p_zoo.set_defaults(func=_cmd_zoo)

    p_data = sub.add_parser("data", help="datasets in the NTIRE layout")
    data_sub = p_data.add_subparsers(dest="data_command", required=True)
    p_pairs = data_sub.add_parser("pairs", help="HR folder -> mod-cropped HR + MATLAB-bicubic LR")
    p_pairs.add_argument("--hr_dir", required=True)
    p_pairs.add_argument("--out_dir", required=True)
    p_pairs.add_argument("--split", default="valid")
    p_pairs.add_argument("--scale", type=int, default=4)
    p_pairs.set_defaults(func=_cmd_data_pairs)
    p_sample = data_sub.add_parser("sample", help="the embedded default set (scikit-image photos)")
    p_sample.add_argument("--out_dir", default="data/sample")
    p_sample.set_defaults(func=_cmd_data_sample)

    from .export import add_arguments as add_export_arguments

    p_export = sub.add_parser("export", help="ONNX export (opset 17+, dynamic H/W), checked against eager on real images")
    add_export_arguments(p_export).set_defaults(func=_cmd_export)

    from .backend_bench import add_arguments as add_backends_arguments

    p_back = sub.add_parser("backends", help="inference paths side by side: time, cold call, GFLOP/s, share of the "
                                              "matmul peak, difference to eager")
    add_backends_arguments(p_back).set_defaults(func=_cmd_backends)

    from .factsheet import add_factsheet_arguments, run_factsheet_from_args

    p_fs = sub.add_parser("factsheet", help="NTIRE factsheet set: LaTeX/Markdown/CSV tables and 05_* figures from "
                                            "the results of notebooks 01-04")
    add_factsheet_arguments(p_fs).set_defaults(func=run_factsheet_from_args)

    p_wb = sub.add_parser("workbook", help="run the notebooks in order through papermill")
    p_wb.add_argument("--mode", choices=["quick", "full"], default="quick")
    p_wb.add_argument("--data_dir", default=None, help="NTIRE-layout data (default: the embedded sample)")
    p_wb.add_argument("--device", default="auto")
    p_wb.add_argument("--only", nargs="*", default=None, help="notebook name prefixes to run, e.g. 01 03")
    p_wb.add_argument("--out_dir", default="runs/workbook", help="executed notebooks, results and summary")
    p_wb.set_defaults(func=_cmd_workbook)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns the exit status (2 on a user error, 130 on Ctrl-C)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (status 2) and --help (status 0)
        return int(exc.code or 0)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, rank 0 speaks for all
            print(f"slimrlfn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("slimrlfn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
