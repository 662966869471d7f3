"""``slimrlfn export`` (ONNX, checked against eager) and ``slimrlfn backends`` (every inference path side by side)."""
from __future__ import annotations

import argparse
from typing import Any, Dict

import torch

from slimrlfn.arch.arguments import add_model_arguments, add_models_arguments, model_from_args, models_from_args
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.arguments import check_fits_memory, parse_size
from slimrlfn.core.errors import UserError
from slimrlfn.core.outputs import check_output_file
from slimrlfn.data.sample import example_images
from slimrlfn.deploy.backends import BACKENDS
from slimrlfn.deploy.bench import DEFAULT_SIZES, compare_backends
from slimrlfn.deploy.onnx import DEFAULT_TOLERANCE, EXPORTERS, MIN_OPSET, export_onnx

__all__ = ["add_backends_arguments", "add_export_arguments", "run_backends", "run_export"]


def add_export_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``slimrlfn export`` flags."""
    add_model_arguments(parser)
    parser.add_argument("--format", default="onnx", choices=["onnx"], help="export format (onnx)")
    parser.add_argument("--out", default=None, help="output file (default exports/<model>.onnx)")
    parser.add_argument("--opset", type=int, default=MIN_OPSET, help=f"ONNX opset ({MIN_OPSET} or newer)")
    parser.add_argument("--check_data", default=None,
                        help="NTIRE-layout data whose valid LR/HR pairs the export is checked on "
                             "(default: two scikit-image photos, MATLAB-bicubic x4)")
    parser.add_argument("--check_images", type=int, default=5, help="how many pairs of --check_data to use")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="largest accepted |ONNX - eager| on the [0, 255] output")
    parser.add_argument("--size", default=None,
                        help="HxW: a file for this LR size only (for models whose operators depend on the input size, "
                             "e.g. adaptive pooling to H/8); checked on centre crops of that size")
    parser.add_argument("--exporter", default="torchscript", choices=EXPORTERS,
                        help="torchscript (default) or dynamo (torch.export; needs onnxscript; knows FFTs)")
    return parser


def run_export(args: argparse.Namespace) -> int:
    """Export as the parsed arguments say; prints one summary line."""
    if not (args.model or args.checkpoint or args.challenge_repo or args.model_id is not None):
        raise UserError("export: name the model: --model NAME, --checkpoint PATH, or --challenge_repo DIR --model_id N")
    if args.check_images < 1:
        raise UserError(f"--check_images {args.check_images}: expected at least 1")
    if not args.tolerance > 0:
        raise UserError(f"--tolerance {args.tolerance}: expected a positive difference on the [0, 255] output")
    if args.opset < MIN_OPSET:  # before any folder is made
        raise UserError(f"--opset {args.opset}: expected {MIN_OPSET} or newer")
    if args.out is not None:
        check_output_file(args.out, "--out")
    spec = model_from_args(args)
    out = args.out or f"exports/{spec.folder}.onnx"
    check_output_file(out, "--out")
    images = example_images(args.check_data, limit=args.check_images)
    for image in images:
        if min(image["lr"].shape[:2]) < spec.min_size:
            height, width = image["lr"].shape[:2]
            raise UserError(f"--check_data: LR image {image.get('lr_path', image['name'])} is {width}x{height}, smaller "
                            f"than the {spec.min_size}x{spec.min_size} that {spec.label} takes")
    report = export_onnx(spec.model, out, images, args.opset, args.tolerance, spec.scale, spec.ref.to_json(),
                         data_range=spec.data_range, size=None if args.size is None else parse_size(args.size, "--size"),
                         exporter=args.exporter)
    psnr = (f", PSNR {report['psnr_onnx']:.4f} dB (eager {report['psnr_eager']:.4f})"
            if report["psnr_onnx"] is not None else "")
    over = {name for name, c in report["checks"].items() if not c["within_tolerance"]}
    runtimes = ", ".join(f"{name} {c['error'] if c.get('error') else format(c['max_abs_diff'], '.2e')}"
                         + (" (over the tolerance)" if name in over else "") for name, c in report["checks"].items())
    print(f"{out}: {report['exporter']} exporter, opset {report['opset']}, input {report['input_size']}, max abs difference to eager on the [0, 255] output over "
          f"{len(report['images'])} image(s): {runtimes}{psnr}; exported in {report['export_s']:.2f} s"
          + (f"; kept because {', '.join(sorted(set(report['checks']) - over))} runs it within --tolerance "
             f"{args.tolerance:g}; the {', '.join(sorted(over))} backend refuses this file" if over else ""))
    return 0


def add_backends_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``slimrlfn backends`` flags."""
    add_models_arguments(parser, list(ZOO))
    parser.add_argument("--sizes", nargs="+", default=[f"{h}x{w}" for h, w in DEFAULT_SIZES], help="LR sizes HxW")
    parser.add_argument("--backends", nargs="+", default=None, choices=BACKENDS,
                        help="default: auto and every exact backend available here (the lossy openvino_int8 only "
                             "when named)")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved timed calls per backend")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--in_process", action="store_true",
                        help="run every path in this process (default: each in a process of its own, as users run them)")
    parser.add_argument("--out", default="runs/backends/backends.json", help="results JSON (written atomically)")
    return parser


def compare_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """Compare as the parsed arguments say, printing each table; returns the document."""
    if args.threads is not None:
        if args.threads < 1:
            raise UserError(f"--threads {args.threads}: expected at least 1")
        torch.set_num_threads(args.threads)
    sizes = [parse_size(s, "--sizes", minimum=16) for s in args.sizes]
    for size in sizes:
        check_fits_memory(size, "--sizes")
    check_output_file(args.out, "--out")
    document = compare_backends(models_from_args(args), sizes, args.backends, args.rounds, args.device, args.out,
                                progress=False, log=lambda line: print(line + "\n", flush=True),
                                isolate=not args.in_process)
    print(f"-> {args.out}")
    return document


def run_backends(args: argparse.Namespace) -> int:
    """``slimrlfn backends``: :func:`compare_from_args`; returns 0."""
    compare_from_args(args)
    return 0
