"""``slimrlfn zoo``: the official checkpoints (``--verify``: find each and check its SHA-256)."""
from __future__ import annotations

import argparse
import json

from slimrlfn.arch.zoo import ZOO, find_checkpoint

__all__ = ["add_arguments", "run_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn zoo`` flags."""
    parser.add_argument("--verify", action="store_true", help="find every file and check its SHA-256")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """One line per zoo model: name, file, and its ``prune_channels`` (or where the verified file is)."""
    for name, entry in ZOO.items():
        if args.verify:
            path = find_checkpoint(name)
            print(f"{name:15s} {entry.file:28s} sha256 ok  {path}")
        else:
            print(f"{name:15s} {entry.file:28s} {json.dumps(entry.config['prune_channels'])}")
    return 0
