"""The frontier of device-aware pruning: warm time against PSNR of each candidate, the official models and the target.

Follows ``bench/pruning/prune_faster.py`` (where this figure was first) and draws its report
(:mod:`slimrlfn.prune.faster`): one panel per validation set (Set5, Set14), a point per model at its warm time
ratio to SlimRLFN-prune (the mean over the timed sizes) and its PSNR, the official SlimRLFN and SlimRLFN-prune
marked, and the target corner (:data:`~slimrlfn.prune.faster.TARGET_RATIO`,
:data:`~slimrlfn.prune.faster.TARGET_PSNR`) shaded. The title names the device and its threads.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from matplotlib.figure import Figure

from slimrlfn.prune.faster import TARGET_PSNR, TARGET_RATIO

__all__ = ["frontier_figure"]


def frontier_figure(report: Dict[str, Any], path: Path) -> None:
    """Draw the frontier of ``report`` (the ``timing``, ``quality`` and ``device`` of a prune-faster report) and save
    it as one PNG at ``path`` (120 dpi; its folder is made)."""
    timed, scores = report["timing"], report["quality"]
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
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
