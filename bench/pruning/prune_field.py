"""Iterative prune + fine-tune of challenge entries that are not RLFN-like, step by step, on the CPU.

For each ``--model_ids`` entry of ``--challenge_repo`` (default 38 SPAN, 23 SAFMNPP, 03 LKFN and 01
PFDN_Lite of the 2024 repository): ``--steps`` steps of the one pruning run with the ``any`` pruner
(:func:`slimrlfn.prune.schedule.prune_iteratively`, :mod:`slimrlfn.prune.pruners`, as ``slimrlfn prune
--challenge_repo DIR --model_id N`` runs it: ``--fraction`` of every prunable channel group per step, L1 ranking,
widths kept at multiples of ``--multiple_of`` and at least 4, ``--iterations`` of fine-tuning in inference mode with
distillation from the unpruned entry on McMaster patches), and per step: PSNR on Set5 and Set14 (RGB, border 4),
params, fvcore FLOPs, and the median latency of a 1x3xSxS forward timed alternately with the unpruned entry (its
speed-up, side by side: :func:`slimrlfn.prune.measure.paired_latency`, after the run, on each step's model). Prints a
table per entry and what the pruner left alone. Resumable: each entry's run folder under ``--out`` keeps its
finished steps.

    python bench/pruning/prune_field.py [--model_ids 38 1] [--steps 3] [--iterations 300] [--out runs/prune_field]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, List

import torch

from slimrlfn.arch.derived import load_derived
from slimrlfn.arch.ref import load_model, resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.prune.measure import paired_latency
from slimrlfn.prune.records import load_records, step_checkpoint
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings

#: $SLIMRLFN_SHARED, else ../shared beside the checkout (this file is bench/pruning/prune_field.py).
SHARED = Path(os.environ.get("SLIMRLFN_SHARED", Path(__file__).resolve().parents[3] / "shared"))


def side_by_side(out: Path, start: torch.nn.Module, records: List[Dict[str, Any]], args: argparse.Namespace,
                 data_range: float) -> List[Dict[str, float]]:
    """Per step of the run in ``out``: the median latency of its model, timed alternately (ABAB...) with the unpruned
    entry ``start`` on the CPU, and the speed-up (the entry's median over the step's)."""
    rows = []
    for record in records:
        model = start if record["step"] == 0 else load_derived(step_checkpoint(out, record["step"]), load_model)[0]
        timing = paired_latency(model, start, torch.device("cpu"), args.latency_size, args.latency_runs,
                                seed=0, data_range=data_range)
        rows.append({"latency_ms": timing["latency_ms"],
                     "speedup": timing["baseline_latency_ms"] / timing["latency_ms"]})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--challenge_repo", default=str(SHARED / "ntire2024_esr"))
    parser.add_argument("--model_ids", nargs="+", type=int, default=[38, 23, 3, 1])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--multiple_of", type=int, default=4)
    parser.add_argument("--iterations", type=int, default=300, help="fine-tuning iterations per step")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--hr_dir", default=str(SHARED / "datasets" / "McMaster"))
    parser.add_argument("--val_dirs", nargs="+", default=[str(SHARED / "datasets" / n) for n in ("Set5", "Set14")])
    parser.add_argument("--latency_size", type=int, default=256)
    parser.add_argument("--latency_runs", type=int, default=11)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", default="runs/prune_field")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    for model_id in args.model_ids:
        try:
            spec = resolve_model(challenge_repo=args.challenge_repo, model_id=model_id)
            out = Path(args.out) / spec.folder
            settings = PruneSettings(model=spec.ref.absolute().to_json(), out_dir=str(out), val_dir=args.val_dirs[0],
                                     val_dirs=list(args.val_dirs), hr_dirs=[args.hr_dir], criterion="l1",
                                     fraction=args.fraction, multiple_of=args.multiple_of, min_channels=4,
                                     max_steps=args.steps, finetune_iterations=args.iterations,
                                     batch_size=args.batch_size, lr_patch=32, latency_size=args.latency_size,
                                     latency_runs=args.latency_runs, device="cpu", progress=False)
            prune_iteratively(settings)
        except UserError as exc:
            print(f"prune_field: entry {model_id}: {exc}", file=sys.stderr)
            continue
        records = load_records(out)
        left_alone = json.loads((out / "run.json").read_text()).get("left_alone", {})
        timed = side_by_side(out, spec.model, records, args, spec.data_range)
        names = [Path(d).name for d in args.val_dirs]
        reasons: dict = {}
        for name, why in left_alone.items():
            reasons.setdefault(why.split(" (")[0], []).append(name)
        print(f"\n{spec.result_name}: {len(records[0]['widths'])} prunable channel groups; left alone: "
              + "; ".join(f"{len(names)} because {why} ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
                          for why, names in reasons.items()))
        print(f"{'step':>4s} {'removed':>7s} {'params M':>8s} {'FLOPs G':>8s} " + " ".join(f"{n + ' dB':>10s}" for n in names)
              + f" {'ms':>7s} {'speed-up':>8s}")
        for s, t in zip(records, timed):
            print(f"{s['step']:4d} {sum(s['removed'].values()):7d} {s['params_m']:8.4f} {s['flops_g']:8.3f} "
                  + " ".join(f"{s['psnr_sets'][n]:10.3f}" for n in names)
                  + f" {t['latency_ms']:7.1f} {t['speedup']:7.2f}x")
        print(f"CPU, {torch.get_num_threads()} threads, torch {torch.__version__}; latency: median of {args.latency_runs} "
              f"forwards of 1x3x{args.latency_size}x{args.latency_size}, alternating with the unpruned entry; "
              f"{args.iterations} fine-tuning iterations per step, batch {args.batch_size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
