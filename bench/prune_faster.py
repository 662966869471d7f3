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

    python bench/prune_faster.py --minutes 60
    python bench/prune_faster.py --minutes 20 --candidates f24 --out_dir runs/prune_faster_20
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import torch

from slimrlfn.arch.checkpoints import load_checkpoint
from slimrlfn.arch.config import build_model, validate_config
from slimrlfn.arch.zoo import ZOO, load_zoo_model
from slimrlfn.core.devices import describe_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json, atomic_write_text
from slimrlfn.data.pairs import find_pairs
from slimrlfn.deploy.side_by_side import time_side_by_side
from slimrlfn.evaluate.ntire import evaluate_split
from slimrlfn.metrics.counts import architecture_counts
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings
from slimrlfn.prune.units import unit_widths

SHARED = os.environ.get("SLIMRLFN_SHARED", "../shared")
SIZES = ((256, 256), (339, 510))
TARGET_RATIO = 0.85  # at least 15 % faster: time / SlimRLFN-prune's time <= 0.85
TARGET_PSNR = {"Set5": 30.02, "Set14": 26.76}
OFFICIAL = {"SlimRLFN": "slimrlfn", "SlimRLFN-prune": "slimrlfn_prune"}
REFERENCE = "SlimRLFN-prune"


def shape(features: int, inner: int, esa: int, blocks: int = 6) -> Dict[str, Any]:
    """A SlimRLFN config with one feature, inner and ESA width for every block."""
    return validate_config({**ZOO["slimrlfn"].config, "feature_channels": features, "num_blocks": blocks,
                            "prune_channels": [inner] * (2 * blocks), "esa_channels": [esa] * blocks})


#: Candidate shapes (the official SlimRLFN is f30 i30 e16): mostly widths in multiples of 8, the AVX2 fp32 vector
#: width, and a few in between.
CANDIDATES = {
    "e8": shape(30, 30, 8),
    "i28e8": shape(30, 28, 8),
    "i24": shape(30, 24, 16),
    "i24e12": shape(30, 24, 12),
    "i24e8": shape(30, 24, 8),
    "i16": shape(30, 16, 16),
    "f32": shape(32, 32, 16),
    "f28i24": shape(28, 24, 16),
    "f24": shape(24, 24, 16),
    "f24e8": shape(24, 24, 8),
    "f24i16": shape(24, 16, 16),
}


def scope_of(config: Dict[str, Any]) -> List[str]:
    """The prune scopes the change from the official SlimRLFN to ``config`` needs."""
    start, target = unit_widths(ZOO["slimrlfn"].config), unit_widths(config)
    kinds = {"inner" if u.endswith(("c1_r", "c2_r")) else "esa" if u.endswith(".esa") else "feature"
             for u in start if target[u] != start[u]}
    return [k for k in ("inner", "esa", "feature") if k in kinds]


def steps_needed(config: Dict[str, Any], per_step: int) -> int:
    """Pruning steps of ``per_step`` channels per unit from the official SlimRLFN to ``config``; ValueError when a
    width would grow (a survey-only shape such as ``f32``)."""
    start, target = unit_widths(ZOO["slimrlfn"].config), unit_widths(config)
    if not reachable(config):
        grown = next(u for u in start if target[u] > start[u])
        raise ValueError(f"{grown} would grow from {start[grown]} to {target[grown]} channels: "
                         f"pruning cannot reach that shape (time it in the survey only)")
    return max(math.ceil((start[u] - target[u]) / per_step) for u in start)


def reachable(config: Dict[str, Any]) -> bool:
    """Whether pruning the official SlimRLFN can reach ``config`` (no width grows)."""
    start, target = unit_widths(ZOO["slimrlfn"].config), unit_widths(config)
    return all(target[u] <= start[u] for u in start)


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


def ratio_at(timing: Dict[str, Any], label: str) -> Dict[str, Any]:
    return {"x".join(map(str, r["size"])): r["vs_reference"] for r in timing["rows"] if r["label"] == label}


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


def tuning_minutes(row: Dict[str, Any]) -> float:
    """The CPU-minutes spent making up for the cuts, which the 60-minute budget counts: the wall minutes of the
    fine-tuning plus the least-squares refits, times the torch threads they ran on (a row of an older run, which
    did not record its threads, counts as one thread: those runs used ``--threads 1``)."""
    return (row["finetune_minutes"] + row.get("refit_minutes", 0.0)) * row.get("threads", 1)


def verdicts(trained, scores, timed) -> Dict[str, Dict[str, Any]]:
    out = {}
    for name in trained:
        ratios = ratio_at(timed, name)
        speed = all(r["ratio"] <= TARGET_RATIO for r in ratios.values())
        psnr = all(scores[name][k] >= v for k, v in TARGET_PSNR.items())
        budget = tuning_minutes(trained[name]) <= 60.0 + 1e-6
        out[name] = {"ratios": ratios, "speed_met": speed, "psnr_met": psnr, "finetune_met": budget,
                     "met": speed and psnr and budget}
    return out


def markdown(report: Dict[str, Any]) -> str:
    timed, scores = report["timing"], report["quality"]
    sizes = ["x".join(map(str, s)) for s in SIZES]
    lines = [f"Device: {report['device']['device_name']}, {timed['threads']} threads, default path "
             f"{timed['rows'][0]['resolved']}, {len(timed['rows'][0]['times_ms'])} interleaved rounds, load "
             f"{timed['load_average'][0]:.2f} -> {timed['load_average'][1]:.2f}, matmul peak "
             f"{timed['peak']['gflops']:.1f} GFLOP/s.", "",
             "| model | params [M] | FLOPs [G] | " + " | ".join(f"{s} ms / vs prune [95% CI]" for s in sizes)
             + " | Set5 | Set14 | fine-tune + refit min (x threads = CPU-min) | verdict |",
             "|---|---|---|" + "---|" * len(sizes) + "---|---|---|---|"]
    for label in scores:
        rows = {"x".join(map(str, r["size"])): r for r in timed["rows"] if r["label"] == label}
        counts = report["counts"].get(label, {})
        cells = []
        for s in sizes:
            r = rows[s]
            lo, hi = r["vs_reference"]["ci"]
            cells.append(f"{r['median_ms']:.1f} / {r['vs_reference']['ratio']:.3f} [{lo:.3f}, {hi:.3f}]")
        verdict = report["verdicts"].get(label)
        text = "official" if verdict is None else ("**met**" if verdict["met"] else "not met: " + ", ".join(
            k for k, ok in (("speed", verdict["speed_met"]), ("PSNR", verdict["psnr_met"]),
                            ("budget", verdict["finetune_met"])) if not ok))
        row = report["trained"].get(label)
        tuned = "-" if row is None else (f"{row['finetune_minutes']:.1f} + {row.get('refit_minutes', 0.0):.1f} "
                                         f"(x {row.get('threads', 1)} = {tuning_minutes(row):.1f})")
        lines.append(f"| {label} | {counts.get('params_m', float('nan')):.4f} | {counts.get('flops_g', float('nan')):.3f} | "
                     + " | ".join(cells) + f" | {scores[label]['Set5']:.3f} | {scores[label]['Set14']:.3f} | "
                     + f"{tuned} | {text} |")
    lines += ["", f"Targets: time ratio <= {TARGET_RATIO} at both sizes, Set5 >= {TARGET_PSNR['Set5']}, "
              f"Set14 >= {TARGET_PSNR['Set14']} dB, fine-tuning + refit <= 60 CPU-minutes."]
    way = [(label, row) for label, row in report["trained"].items() if row.get("psnr_cut")]
    if way:
        lines += ["", "Set5 PSNR of each step on the way (the validation of the pruning run), plain cut -> after the "
                  "least-squares refit -> after fine-tuning:", ""]
        for label, row in way:
            steps = zip(row["psnr_cut"], row["psnr_before_finetune"], row.get("psnr_after_finetune", [None] * 99))
            lines.append(f"- {label}: " + "; ".join(
                f"{cut:.3f} -> {refit:.3f} -> " + ("?" if after is None else f"{after:.3f}") + " dB"
                for cut, refit, after in steps))
    return "\n".join(lines) + "\n"


def frontier_figure(report: Dict[str, Any], path: Path) -> None:
    import matplotlib.pyplot as plt

    timed, scores = report["timing"], report["quality"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    markers = {"SlimRLFN": ("s", "black"), "SlimRLFN-prune": ("D", "dimgray")}
    for ax, set_name in zip(axes, ("Set5", "Set14")):
        for label in scores:
            ratios = [r["vs_reference"]["ratio"] for r in timed["rows"] if r["label"] == label]
            x, y = sum(ratios) / len(ratios), scores[label][set_name]
            if label in markers:
                marker, color = markers[label]
                ax.scatter(x, y, marker=marker, s=60, color=color, label=f"{label} (official)")
            else:
                ax.scatter(x, y, marker="o", s=60, color="tab:blue")
                ax.annotate(label, (x, y), textcoords="offset points", xytext=(6, 4), fontsize=8)
        low = min(ax.get_ylim()[0], TARGET_PSNR[set_name] - 0.05)
        ax.axvline(TARGET_RATIO, color="tab:red", linestyle="--", linewidth=1)
        ax.axhline(TARGET_PSNR[set_name], color="tab:red", linestyle="--", linewidth=1)
        ax.axvspan(ax.get_xlim()[0], TARGET_RATIO, ymin=(TARGET_PSNR[set_name] - low) / (ax.get_ylim()[1] - low),
                   color="tab:green", alpha=0.08, label="target region")
        ax.set_xlabel("warm time / SlimRLFN-prune (mean of 256x256 and 339x510)")
        ax.set_ylabel(f"{set_name} PSNR RGB [dB]")
        ax.set_title(f"{set_name}: the target is the shaded corner")
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Warm time against PSNR, {report['device']['device_name']}, {timed['threads']} threads")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


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
