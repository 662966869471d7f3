"""Device-aware pruning that wins (issue 16, item 2): candidate shapes of SlimRLFN, how a pruning run reaches them,
and the verdict and report table of the candidates against the official SlimRLFN-prune.

Follows ``bench/pruning/prune_faster.py`` (where these were first), which prunes the official SlimRLFN to each
candidate shape, fine-tunes it and times it side by side with SlimRLFN-prune. Targets: a paired warm time ratio
candidate / SlimRLFN-prune of at most :data:`TARGET_RATIO` (0.85, at least 15 % faster) at both :data:`SIZES`;
Set5 and Set14 PSNR (RGB, border 4) of at least :data:`TARGET_PSNR`; at most 60 CPU-minutes of fine-tuning and
least-squares refits. The figure of the same report is :func:`slimrlfn.figures.frontier.frontier_figure`.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List

from slimrlfn.arch.config import validate_config
from slimrlfn.arch.zoo import ZOO
from slimrlfn.prune.units import unit_widths

__all__ = ["CANDIDATES", "SIZES", "TARGET_PSNR", "TARGET_RATIO", "markdown", "ratio_at", "reachable", "scope_of",
           "shape", "steps_needed", "verdicts"]

#: LR sizes (height, width) of the timing: 256x256 and the DIV2K-sized 339x510.
SIZES = ((256, 256), (339, 510))
TARGET_RATIO = 0.85  # at least 15 % faster: time / SlimRLFN-prune's time <= 0.85
TARGET_PSNR = {"Set5": 30.02, "Set14": 26.76}


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


def ratio_at(timing: Dict[str, Any], label: str) -> Dict[str, Any]:
    """``{"256x256": ratio, ...}``: the paired ratio to the reference of ``label`` at each size of a side-by-side timing
    (:func:`slimrlfn.deploy.side_by_side.time_side_by_side`'s rows)."""
    return {"x".join(map(str, r["size"])): r["vs_reference"] for r in timing["rows"] if r["label"] == label}


def _tuning_minutes(row: Dict[str, Any]) -> float:
    """The CPU-minutes spent making up for the cuts, which the 60-minute budget counts: the wall minutes of the
    fine-tuning plus the least-squares refits, times the torch threads they ran on (a row of an older run, which
    did not record its threads, counts as one thread: those runs used ``--threads 1``)."""
    return (row["finetune_minutes"] + row.get("refit_minutes", 0.0)) * row.get("threads", 1)


def verdicts(trained: Dict[str, Dict[str, Any]], scores: Dict[str, Dict[str, float]],
             timed: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """Per trained candidate: its time ratios at each size, whether it meets the speed, PSNR and fine-tuning budget
    targets, and ``met`` when it meets all three."""
    out = {}
    for name in trained:
        ratios = ratio_at(timed, name)
        speed = all(r["ratio"] <= TARGET_RATIO for r in ratios.values())
        psnr = all(scores[name][k] >= v for k, v in TARGET_PSNR.items())
        budget = _tuning_minutes(trained[name]) <= 60.0 + 1e-6
        out[name] = {"ratios": ratios, "speed_met": speed, "psnr_met": psnr, "finetune_met": budget,
                     "met": speed and psnr and budget}
    return out


def markdown(report: Dict[str, Any]) -> str:
    """The report table: a row per model (counts, time and ratio at each size, PSNR, minutes spent, verdict), the
    targets, and the PSNR of each pruning step on the way."""
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
                                         f"(x {row.get('threads', 1)} = {_tuning_minutes(row):.1f})")
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
