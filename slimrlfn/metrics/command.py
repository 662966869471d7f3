"""``slimrlfn profile``: params, fvcore FLOPs, ptflops MACs, activations and convs of zoo models or a checkpoint."""
from __future__ import annotations

import argparse

from slimrlfn.arch.source import resolve_model
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.files import atomic_write_json
from slimrlfn.metrics.counts import profile_model

__all__ = ["add_arguments", "run_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn profile`` flags."""
    parser.add_argument("--models", nargs="+", choices=sorted(ZOO), default=list(ZOO))
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--config", default=None)
    parser.add_argument("--size", type=int, default=256, help="input side in pixels (NTIRE: 256)")
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Count every model named, print one row each (and write them to ``--json``); returns 0."""
    names = args.models if not args.checkpoint else [None]
    rows = []
    for name in names:
        spec = resolve_model(model=name, checkpoint=args.checkpoint, config=args.config)
        counts = profile_model(spec.model, (1, 3, args.size, args.size))
        rows.append({"model": spec.label, **counts})
    header = (f"{'model':16s} {'params [M]':>10s} {'FLOPs [G]':>10s} {'MACs pt [G]':>11s} {'MACs aten [G]':>13s} "
              f"{'acts [M]':>9s} {'convs':>5s}")
    print(f"fvcore FLOPs and ptflops MACs on 1x3x{args.size}x{args.size}")
    print(header)
    for r in rows:
        print(f"{r['model']:16s} {r['num_parameters']:10.4f} {r['flops']:10.4f} {r['macs_ptflops_pytorch']:11.4f} "
              f"{r['macs_ptflops_aten']:13.4f} {r['activations']:9.4f} {r['num_conv']:5d}")
    if args.json:
        atomic_write_json(args.json, rows)
    return 0
