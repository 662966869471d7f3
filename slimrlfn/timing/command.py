"""``slimrlfn time``: the warm-up timing study from the command line (``python -m slimrlfn.timing`` is the same)."""
from __future__ import annotations

import argparse

from slimrlfn.arch.arguments import add_models_arguments, models_from_args
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.arguments import parse_size
from slimrlfn.core.outputs import check_output_file
from slimrlfn.deploy.backends import BACKENDS
from slimrlfn.timing.protocols import make_settings
from slimrlfn.timing.report import format_table
from slimrlfn.timing.study import run_study

__all__ = ["add_arguments", "run_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn time`` flags."""
    add_models_arguments(parser, list(ZOO))
    parser.add_argument("--data_dir", default="data/sample", help="NTIRE-layout data (ntire and warm protocols)")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--scenario", default="separate", help="separate (a fresh process per run) or consecutive")
    parser.add_argument("--runs", type=int, default=5, help="runs per model (the seed: 5)")
    parser.add_argument("--protocol", default="ntire", help="ntire (official loop), warm or micro")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--out", default=None, help="results JSON (default runs/timing/<scenario>_<protocol>.json); "
                                                    "an existing file with the same settings is resumed")
    parser.add_argument("--overwrite", action="store_true", help="start again even if --out exists")
    parser.add_argument("--threads", type=int, default=None, help="CPU intra-op threads (default: torch's)")
    parser.add_argument("--backend", default="eager", choices=BACKENDS,
                        help="inference path (default eager: PyTorch as the challenge timed it; auto = the fastest "
                             "exact path of the device; see slimrlfn.deploy.backends)")
    parser.add_argument("--channels_last", action="store_true")
    parser.add_argument("--fp16", action="store_true", help="half precision (GPU only)")
    parser.add_argument("--cudnn_benchmark", action="store_true", help="cudnn.benchmark = True (GPU only)")
    parser.add_argument("--cuda_module_loading", default=None, help="LAZY or EAGER for the worker processes (GPU only)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm: passes over the images (default 1); micro: iterations per size (default 3)")
    parser.add_argument("--iters", type=int, default=10, help="micro: timed iterations per size")
    parser.add_argument("--sizes", nargs="+", default=None, help="micro: LR sizes HxW (default 256x256 339x510)")
    parser.add_argument("--in_process", action="store_true", help="consecutive: run in this process, not a fresh worker")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the study the arguments describe, print the seed-style table; 0 when every run finished."""
    suffix = "" if args.backend == "eager" else f"_{args.backend}"
    out = args.out or f"runs/timing/{args.scenario}_{args.protocol}{suffix}.json"
    check_output_file(out, "--out")
    sizes = [parse_size(s, "--sizes") for s in args.sizes] if args.sizes else None
    # the settings first (backend, device, protocol, data), then the models they apply to
    make_settings(args.protocol, args.device, args.data_dir, args.split, args.warmup, args.iters, sizes, args.threads,
                  args.channels_last, args.fp16, args.cudnn_benchmark, args.cuda_module_loading, backend=args.backend)
    study = run_study(models_from_args(args), args.scenario, args.runs, args.protocol, args.data_dir, args.device,
                      args.warmup, args.iters, sizes, args.threads, args.channels_last, args.fp16,
                      args.cudnn_benchmark, args.cuda_module_loading, args.split, out, args.overwrite,
                      isolate=not args.in_process, backend=args.backend)
    print(format_table(study), end="")
    print(f"-> {out}")
    return 0 if all(r["status"] == "ok" for r in study["records"]) else 1
