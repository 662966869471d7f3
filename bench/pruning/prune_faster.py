"""Device-aware pruning that wins: from the official SlimRLFN, a model faster warm than the official SlimRLFN-prune.

Issue 16, item 2. Targets: at least 15 % faster warm than SlimRLFN-prune on this machine's default path
(``slimrlfn eval``'s ``auto`` for one image: channels_last on a CPU) at LR 256x256 and 339x510, i.e. a
paired time ratio candidate / SlimRLFN-prune of at most 0.85 at both sizes; Set5 >= 30.02 and Set14 >=
26.76 dB (RGB, border 4, SR rounded to uint8, as ``slimrlfn eval``); at most 60 minutes of fine-tuning
with distillation on McMaster. When no candidate meets all three, the report is the measured frontier
(warm time ratio against PSNR) with the official shapes on it.

Stages (each one's result is a file under ``--out_dir``; a rerun skips what is there, so an interrupted
bench resumes, and a pruning run resumes after its last finished step):

1. ``survey.json``: every candidate shape (``--candidates``, configs of the SlimRLFN architecture) built with
   random weights and timed side by side with SlimRLFN and SlimRLFN-prune (:mod:`slimrlfn.deploy.side_by_side`:
   interleaved rounds, the fp32 matmul peak in the same rounds). The time of a convolution does not depend
   on its weights, so this is the shape's warm time before any training: it picks which shapes to train
   (``--train``: the candidates whose survey ratio is at most ``--survey_max_ratio`` at both sizes).
2. ``CANDIDATE/``: :func:`slimrlfn.prune.schedule.prune_iteratively` from the official SlimRLFN to the
   candidate's shape (Torch-Pruning surgery; L1-norm ranking; ``--channels_per_step`` per unit and step: by
   default 14, one cut to any candidate), each cut refit by least squares to the uncut layer outputs on
   ``--refit_patches`` LR patches (:mod:`slimrlfn.prune.refit`; 0: off), each step fine-tuned on ``--hr_dir`` patches (L1 to HR + L1 to the unpruned SlimRLFN, Adam, cosine) for
   an equal share of ``--minutes``; the result is ``CANDIDATE/final.pth`` + ``final.json`` (config +
   state_dict: ``slimrlfn eval --checkpoint CANDIDATE/final.pth``).
3. ``quality.json``: Set5 and Set14 PSNR of every trained candidate and the two official models.
4. ``timing.json``: the trained candidates and the official SlimRLFN and SlimRLFN-prune side by side on the
   default path, ``--rounds`` rounds at each size, with the matmul peak.
5. ``report.json``, ``report.md`` and ``figures/prune_faster_frontier.png``: the verdict per candidate.

The candidate shapes, the targets, the verdict and the report table are :mod:`slimrlfn.prune.faster`; the figure is
:func:`slimrlfn.figures.frontier.frontier_figure`.

    python bench/pruning/prune_faster.py --minutes 60
    python bench/pruning/prune_faster.py --minutes 20 --candidates f24 --out_dir runs/prune_faster_20
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict

import torch

from slimrlfn.arch.checkpoints import load_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.arch.zoo import ZOO, load_zoo_model
from slimrlfn.core.devices import describe_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json, atomic_write_text
from slimrlfn.data.pairs import find_pairs
from slimrlfn.deploy.side_by_side import time_side_by_side
from slimrlfn.evaluate.ntire import evaluate_split
from slimrlfn.figures.frontier import frontier_figure
from slimrlfn.metrics.counts import architecture_counts
from slimrlfn.prune.faster import (CANDIDATES, SIZES, TARGET_PSNR, TARGET_RATIO, markdown, ratio_at, reachable,
                                   scope_of, steps_needed, verdicts)
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings

SHARED = os.environ.get("SLIMRLFN_SHARED", "../shared")
OFFICIAL = {"SlimRLFN": "slimrlfn", "SlimRLFN-prune": "slimrlfn_prune"}
REFERENCE = "SlimRLFN-prune"


def stage(path: Path, make, log, labels: Any = None) -> Any:
    """The JSON at ``path``, made by ``make()`` (and written atomically) when absent or made for other ``labels``."""
    if path.is_file():
        kept = json.loads(path.read_text())
        if kept.get("labels") == labels:
            log(f"{path}: kept from an earlier run")
            return kept
    value = {**make(), "labels": labels}
    atomic_write_json(path, value)
    return value


def survey(args, log) -> Dict[str, Any]:
    models = {label: load_zoo_model(name)[0] for label, name in OFFICIAL.items()}
    for name in args.candidates:
        torch.manual_seed(0)
        models[name] = build_model(CANDIDATES[name]).eval()
    document = time_side_by_side(models, REFERENCE, SIZES, rounds=args.survey_rounds, progress=False, log=log)
    document["counts"] = {name: architecture_counts(CANDIDATES[name]) for name in args.candidates}
    return document


def train(name: str, args, log) -> Dict[str, Any]:
    config = CANDIDATES[name]
    steps = steps_needed(config, args.channels_per_step)
    settings = PruneSettings(
        model="slimrlfn", out_dir=str(Path(args.out_dir) / name), val_dir=args.set5, hr_dirs=[args.hr_dir],
        criterion="l1", scope=scope_of(config), rank="per_layer", channels_per_step=args.channels_per_step,
        target_shape=config, finetune_iterations=10 ** 7, finetune_minutes=args.minutes / steps,
        batch_size=args.batch_size, lr_patch=args.lr_patch, lr=args.lr, distill_weight=1.0, teacher="start",
        refit_patches=args.refit_patches,
        latency_size=128, latency_runs=3, latency_seconds=5.0, device="cpu", progress=False)
    begin, threads = time.perf_counter(), torch.get_num_threads()
    summary = prune_iteratively(settings, log=lambda line: log(f"[{name}] {line}"))
    records = [json.loads(line) for line in (Path(args.out_dir) / name / "records.jsonl").read_text().splitlines()]
    return {"checkpoint": summary["final_checkpoint"], "config": summary["final_config"],
            "params_m": summary["final_params_m"], "flops_g": summary["final_flops_g"], "steps": steps,
            "finetune_iterations": sum(r["finetune"]["iterations"] for r in records),
            "finetune_minutes": sum(r["finetune"]["seconds"] for r in records) / 60.0,
            "refit_minutes": sum((r.get("refit") or {}).get("seconds", 0.0) for r in records) / 60.0,
            "psnr_cut": [(r.get("refit") or {}).get("psnr_cut", r["psnr_before"]) for r in records[1:]],
            "psnr_before_finetune": [r["psnr_before"] for r in records[1:]],
            "psnr_after_finetune": [r["psnr_after"] for r in records[1:]],
            "threads": threads, "minutes_this_call": (time.perf_counter() - begin) / 60.0}


def official_and_trained(trained: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """``{label: model}``: the official SlimRLFN and SlimRLFN-prune, then every trained candidate's final checkpoint."""
    models = {label: load_zoo_model(name)[0] for label, name in OFFICIAL.items()}
    for name, row in trained.items():
        models[name], _ = load_checkpoint(row["checkpoint"])
    return models


def quality(trained: Dict[str, Dict[str, Any]], args, log) -> Dict[str, Any]:
    models = official_and_trained(trained)
    sets = {"Set5": find_pairs(args.set5, "valid", flag="--set5"), "Set14": find_pairs(args.set14, "valid", flag="--set14")}
    result: Dict[str, Any] = {}
    with torch.no_grad():
        for label, model in models.items():
            model = model.eval().to(memory_format=torch.channels_last)
            result[label] = {}
            for set_name, pairs in sets.items():
                scores = evaluate_split(model, pairs, torch.device("cpu"), progress=False, data_range=255.0)
                result[label][set_name] = sum(scores["valid_psnr"]) / len(scores["valid_psnr"])
            log(f"{label}: " + ", ".join(f"{k} {v:.3f} dB" for k, v in result[label].items()))
    return {"psnr": result}


def timing(trained: Dict[str, Dict[str, Any]], args, log) -> Dict[str, Any]:
    models = official_and_trained(trained)
    return time_side_by_side(models, REFERENCE, SIZES, rounds=args.rounds, progress=False, log=log)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0,
                        help="fine-tuning wall minutes per candidate; the budget counts them times --threads "
                             "(target: <= 60 CPU-minutes)")
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--train", nargs="*", default=None,
                        help="candidates to train (default: those the survey puts at <= --survey_max_ratio)")
    parser.add_argument("--survey_max_ratio", type=float, default=0.85)
    parser.add_argument("--hr_dir", default=f"{SHARED}/datasets/McMaster")
    parser.add_argument("--set5", default=f"{SHARED}/datasets/Set5")
    parser.add_argument("--set14", default=f"{SHARED}/datasets/Set14")
    parser.add_argument("--out_dir", default="runs/prune_faster")
    parser.add_argument("--channels_per_step", type=int, default=14,
                        help="channels per unit and step (default 14: one cut to any candidate)")
    parser.add_argument("--refit_patches", type=int, default=128,
                        help="LR patches of the least-squares refit after each cut (0: off)")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--lr_patch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--rounds", type=int, default=30, help="interleaved timing rounds per size")
    parser.add_argument("--survey_rounds", type=int, default=10)
    parser.add_argument("--figure", default="figures/prune_faster_frontier.png")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--only_train", action="store_true",
                        help="stop after training (to train candidates in parallel processes, one thread each)")
    args = parser.parse_args()
    for flag in ("hr_dir", "set5", "set14"):
        if not Path(getattr(args, flag)).is_dir():
            print(f"--{flag} {getattr(args, flag)}: no such folder (set SLIMRLFN_SHARED or pass the flag)",
                  file=sys.stderr)
            return 2
    if args.minutes <= 0 or args.rounds < 2 or args.channels_per_step < 1:
        print("--minutes > 0, --rounds >= 2 and --channels_per_step >= 1 expected", file=sys.stderr)
        return 2
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    def log(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)

    device = describe_device(torch.device("cpu"))
    log(f"device: {device['device_name']}, {torch.get_num_threads()} threads")
    surveyed = stage(out / "survey.json", lambda: survey(args, log), log, sorted(args.candidates))
    chosen = args.train
    if chosen is None:
        chosen = [n for n in args.candidates if reachable(CANDIDATES[n])
                  and all(r["ratio"] <= args.survey_max_ratio for r in ratio_at(surveyed, n).values())]
        log(f"survey: training {', '.join(chosen) or 'nothing'} (time ratio <= {args.survey_max_ratio} at both sizes)")
    unknown = [n for n in chosen if n not in CANDIDATES]
    if unknown:
        print(f"--train {' '.join(unknown)}: expected some of {', '.join(CANDIDATES)}", file=sys.stderr)
        return 2
    for name in chosen:
        try:
            steps_needed(CANDIDATES[name], args.channels_per_step)
        except ValueError as exc:
            print(f"--train {name}: {exc}", file=sys.stderr)
            return 2
    trained = {name: stage(out / name / "trained.json", lambda n=name: train(n, args, log), log, name)
               for name in chosen}
    if args.only_train:
        return 0
    scores = stage(out / "quality.json", lambda: quality(trained, args, log), log, sorted(trained))["psnr"]
    timed = stage(out / "timing.json", lambda: timing(trained, args, log), log, sorted(trained))
    counts = {label: architecture_counts(ZOO[name].config) for label, name in OFFICIAL.items()}
    counts.update({name: {"params_m": row["params_m"], "flops_g": row["flops_g"]} for name, row in trained.items()})
    report = {"device": device, "args": vars(args), "survey": surveyed, "trained": trained, "quality": scores,
              "timing": timed, "counts": counts, "verdicts": verdicts(trained, scores, timed),
              "targets": {"ratio": TARGET_RATIO, "psnr": TARGET_PSNR, "finetune_minutes": 60.0}}
    atomic_write_json(out / "report.json", report)
    text = markdown(report)
    atomic_write_text(out / "report.md", text)
    frontier_figure(report, Path(args.figure))
    print(text)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except UserError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2)
