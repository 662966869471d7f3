"""``slimrlfn eval`` / ``python -m slimrlfn.evaluate``: the flags of NTIRE's ``test_demo.py`` plus the workbook's own."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict

from slimrlfn.arch.arguments import add_model_arguments, model_from_args
from slimrlfn.core.errors import UserError
from slimrlfn.deploy.backends import BACKENDS
from slimrlfn.evaluate.ntire import evaluate
from slimrlfn.evaluate.results import format_results_table, load_results

__all__ = ["add_arguments", "run_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``test_demo.py`` flags plus the workbook's own."""
    parser.add_argument("--data_dir", default="data/sample",
                        help="folder with DIV2K_LSDIR_<split>_HR/ and _LR/ (default: the embedded sample, data/sample)")
    parser.add_argument("--save_dir", default="results", help="where SR images, results.json and results.txt go")
    parser.add_argument("--include_test", action="store_true", help="also the test split")
    parser.add_argument("--ssim", action="store_true", help="also SSIM (and SSIM on Y)")
    add_model_arguments(parser, naming=True)
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument("--tile", type=int, default=None,
                        help="LR tile size for tiled inference (default: the entry's own, whole images for the others)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="inference path (default auto: on CPU channels_last for runs under 4 M LR pixels in all, "
                             "OpenVINO above when installed; eager on CUDA). eager = PyTorch as test_demo.py")
    parser.add_argument("--tolerance", type=float, default=None,
                        help="largest accepted difference to eager on the [0, 255] output for exported/compiled "
                             "backends (default 1e-3)")
    parser.add_argument("--int8_max_drop", type=float, default=None,
                        help="PSNR gate of --backend openvino_int8: largest accepted drop against eager fp32 on the "
                             "check crops, dB (default 0.05)")
    parser.add_argument("--int8_calibration", default=None,
                        help="folder of HR photos to calibrate --backend openvino_int8 on (default: the embedded "
                             "sample's six photos)")
    parser.add_argument("--int8_model", default=None,
                        help="folder of a finished `slimrlfn qat` run of this model: --backend openvino_int8 runs its "
                             "int8 IR (quantization-aware) instead of post-training quantization")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing entry of the same name")
    parser.add_argument("--no_images", action="store_true", help="do not write SR PNGs")
    parser.add_argument("--recount", action="store_true",
                        help="count params/FLOPs afresh instead of reading the counts cache (~/.cache/slimrlfn/counts)")
    return parser


def run_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """Evaluate as the parsed arguments say; prints the results table."""
    if args.tile is not None and args.tile < 1:
        raise UserError(f"--tile {args.tile}: expected a positive number of LR pixels")
    if args.tolerance is not None and not args.tolerance > 0:
        raise UserError(f"--tolerance {args.tolerance}: expected a positive difference on the [0, 255] output")
    if args.int8_max_drop is not None and not args.int8_max_drop >= 0:
        raise UserError(f"--int8_max_drop {args.int8_max_drop}: expected a drop in dB, 0 or more")
    if args.int8_calibration is not None and not Path(args.int8_calibration).is_dir():
        raise UserError(f"--int8_calibration {args.int8_calibration}: expected a folder of HR images")
    if args.int8_model is not None and args.backend != "openvino_int8":
        raise UserError(f"--int8_model {args.int8_model}: only with --backend openvino_int8 (got {args.backend})")
    if args.int8_model is not None and not Path(args.int8_model).is_dir():
        raise UserError(f"--int8_model {args.int8_model}: expected the folder of a finished `slimrlfn qat` run")
    spec = model_from_args(args)
    if args.tile is not None and args.tile < spec.min_size:
        raise UserError(f"--tile {args.tile}: expected at least {spec.min_size} LR pixels")
    entry = evaluate(spec, args.data_dir, args.save_dir, args.include_test, args.device, args.tile,
                     args.ssim, args.overwrite, save_images=not args.no_images, backend=args.backend,
                     tolerance=args.tolerance, recount=args.recount, int8_max_drop=args.int8_max_drop,
                     int8_calibration=args.int8_calibration, int8_model=args.int8_model)
    print(format_results_table(load_results(args.save_dir)), end="")
    backend = entry["backend_info"]
    print(f"{spec.result_name}: valid PSNR {entry['valid_ave_psnr']:.3f} dB on "
          f"{entry['device_info']['device_name']}, backend {backend['backend']} (set-up {backend['setup_s']:.2f} s) "
          f"-> {Path(args.save_dir) / 'results.json'}")
    return entry
