"""``slimrlfn zoo`` (the official checkpoints; ``--verify`` checks each SHA-256) and ``slimrlfn models``
(every entry of a challenge repository: its name, data range, parameters, the forward passes its code runs while
it loads, and whether it loads, or why not)."""
from __future__ import annotations

import argparse
import json
from typing import Any, Dict, List, Optional, Sequence

from slimrlfn.arch.arguments import add_models_arguments
from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.ref import load_model
from slimrlfn.arch.zoo import ZOO, find_checkpoint
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json
from slimrlfn.core.outputs import check_output_file

__all__ = ["add_arguments", "add_models_list_arguments", "list_entries", "run_from_args", "run_models"]


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


def add_models_list_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn models`` flags."""
    add_models_arguments(parser, [], repo_required=True, with_models=False)
    parser.add_argument("--json", default=None, help="also write the listing to this JSON file (a list of objects)")
    return parser


def list_entries(repo: ChallengeRepo, ids: Optional[Sequence[int]] = None) -> List[Dict[str, Any]]:
    """One dict per ``model_id``: ``{"id", "name", "loads", "reason", "load_forwards"}`` (the forward passes its
    code runs while it loads; None when it does not load), then ``data_range``, ``params_m``, ``tile`` and
    ``torch_state`` (the global settings its code changed, put back)."""
    rows = []
    for model_id in ids or repo.ids():
        row: Dict[str, Any] = {"id": model_id, "name": None, "loads": False, "reason": None, "load_forwards": None,
                               "data_range": None, "params_m": None, "tile": None, "torch_state": None}
        try:
            spec = load_model({"challenge_repo": repo.folder, "model_id": model_id})
        except UserError as exc:
            row["reason"] = str(exc).removeprefix(f"entry {model_id}: ")
        else:
            row.update(name=spec.result_name, loads=True, load_forwards=len(spec.loaded.get("load_forwards", [])),
                       data_range=spec.data_range, tile=spec.tile, torch_state=spec.loaded.get("torch_state") or None,
                       params_m=sum(p.numel() for p in spec.model.parameters()) / 1e6)
        rows.append(row)
    return rows


def run_models(args: argparse.Namespace) -> int:
    """One line per entry of ``--challenge_repo`` (and ``--json``: the rows); returns 0 (entries that cannot load
    are listed with why)."""
    repo = ChallengeRepo(args.challenge_repo)
    for model_id in args.model_ids or []:
        repo.check_id(model_id, "--model_ids")
    if args.json:
        check_output_file(args.json, "--json")
    rows = list_entries(repo, args.model_ids)
    print(f"{repo.test_demo}: {len(rows)} entries, {sum(r['loads'] for r in rows)} load; load fwd: the forward "
          f"passes its code runs while it loads (a warm-up before the first timed image)")
    print(f"{'id':>3s}  {'name':22s} {'range':>5s} {'params [M]':>10s} {'load fwd':>8s}  ok")
    for r in rows:
        if r["loads"]:
            tile = f", tile {r['tile']}" if r["tile"] else ""
            state = f", sets {', '.join(r['torch_state'])}" if r["torch_state"] else ""
            print(f"{r['id']:3d}  {r['name'].strip():22s} {r['data_range']:5g} {r['params_m']:10.4f} "
                  f"{r['load_forwards']:8d}  ok{tile}{state}")
        else:
            print(f"{r['id']:3d}  {'-':22s} {'-':>5s} {'-':>10s} {'-':>8s}  no: {r['reason']}")
    if args.json:
        atomic_write_json(args.json, rows)
    return 0
