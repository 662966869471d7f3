"""Iterative prune + fine-tune of challenge entries that are not RLFN-like, step by step, on the CPU.

For each ``--model_ids`` entry of ``--challenge_repo`` (default 38 SPAN, 23 SAFMNPP, 03 LKFN and 01
PFDN_Lite of the 2024 repository): ``--steps`` steps of ``slimrlfn prune``'s any-model schedule (:mod:`slimrlfn.prune.anyschedule`:
``--fraction`` of every prunable channel group per step, widths kept at multiples of ``--multiple_of``,
``--iterations`` of fine-tuning in inference mode with distillation from the unpruned entry on
McMaster patches), and per step: PSNR on Set5 and Set14 (RGB, border 4), params, fvcore FLOPs, and the
median latency of a 1x3xSxS forward timed alternately with the unpruned entry (its speed-up, side by
side). Prints a table per entry and what the schedule left alone. Resumable: each entry's run folder
under ``--out`` keeps its finished steps.

    python bench/prune_field.py [--model_ids 38 1] [--steps 3] [--iterations 300] [--out runs/prune_field]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

from slimrlfn.arch.ref import resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.prune.anyschedule import AnyPruneSettings, prune_any_iteratively

SHARED = Path(os.environ.get("SLIMRLFN_SHARED", Path(__file__).resolve().parents[2] / "shared"))


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
            settings = AnyPruneSettings(out_dir=str(Path(args.out) / spec.result_name), steps=args.steps,
                                        fraction=args.fraction, multiple_of=args.multiple_of, val_dirs=args.val_dirs,
                                        hr_dirs=[args.hr_dir], finetune_iterations=args.iterations,
                                        batch_size=args.batch_size, latency_size=args.latency_size,
                                        latency_runs=args.latency_runs, device="cpu", progress=False)
            run = prune_any_iteratively(spec, settings)
        except UserError as exc:
            print(f"prune_field: entry {model_id}: {exc}", file=sys.stderr)
            continue
        names = [Path(d).name for d in args.val_dirs]
        reasons: dict = {}
        for name, why in run["left_alone"].items():
            reasons.setdefault(why.split(" (")[0], []).append(name)
        print(f"\n{spec.result_name}: {len(run['units'])} prunable channel groups; left alone: "
              + "; ".join(f"{len(names)} because {why} ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
                          for why, names in reasons.items()))
        print(f"{'step':>4s} {'removed':>7s} {'params M':>8s} {'FLOPs G':>8s} " + " ".join(f"{n + ' dB':>10s}" for n in names)
              + f" {'ms':>7s} {'speed-up':>8s}")
        for s in run["steps"]:
            print(f"{s['step']:4d} {s.get('removed', 0):7d} {s['params_m']:8.4f} {s['flops_g']:8.3f} "
                  + " ".join(f"{s['psnr'][n]:10.3f}" for n in names)
                  + f" {s['latency_ms']:7.1f} {s['speedup']:7.2f}x")
        print(f"CPU, {run['threads']} threads, torch {torch.__version__}; latency: median of {args.latency_runs} "
              f"forwards of 1x3x{args.latency_size}x{args.latency_size}, alternating with the unpruned entry; "
              f"{args.iterations} fine-tuning iterations per step, batch {args.batch_size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
