"""Figures of the warm-up timing study, one function per figure, read from results documents.

Each function takes the study documents of :func:`slimrlfn.timing.study.run_study` (dicts, as
written to JSON), never a model, returns the matplotlib figure, and with ``path`` saves it as PNG
and PDF with the same stem. The device (and, on a CPU, that it is not a GPU measurement) is
written on every figure; axes carry units.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from slimrlfn.core.files import PathLike
from slimrlfn.figures.style import save_figure, split_stem
from slimrlfn.timing.report import device_line, first_image_shares, run_values

__all__ = ["plot_cold_warm", "plot_first_image_share", "plot_latency_traces"]

_COLORS = {"separate": "tab:red", "consecutive": "tab:blue", "cold": "tab:red", "warm": "tab:blue",
           "first": "tab:orange"}


def _stamp(fig: Any, study: Dict[str, Any], title: str) -> None:
    fig.suptitle(title)
    fig.text(0.01, 0.005, f"device: {device_line(study)}", fontsize=7, ha="left", va="bottom", color="0.3")


def _finish(fig: Any, study: Dict[str, Any], title: str, path: Optional[PathLike]) -> Any:
    _stamp(fig, study, title)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    if path is not None:
        save_figure(fig, *split_stem(path), close=False)  # left open: a notebook shows it inline
    return fig


def _labels(*studies: Optional[Dict[str, Any]]) -> List[Tuple[str, str]]:
    seen: List[Tuple[str, str]] = []
    for study in studies:
        for source in (study or {}).get("models", []):
            if source["model"] not in [m for m, _ in seen]:
                seen.append((source["model"], source["label"]))
    return seen


def plot_latency_traces(separate: Dict[str, Any], consecutive: Optional[Dict[str, Any]] = None,
                        path: Optional[PathLike] = None) -> Any:
    """Per model, every forward's time [ms, log scale] against its position in its process.

    Separate runs: one line per fresh process. Consecutive runs: one line through the whole
    process (runs one after another). The first forward of each process is marked.
    """
    import matplotlib.pyplot as plt

    models = _labels(separate, consecutive)
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.6), sharey=True, squeeze=False)
    for ax, (model, label) in zip(axes[0], models):
        for study in (separate, consecutive):
            if study is None:
                continue
            scenario = study["scenario"]
            by_pid: Dict[int, List[float]] = {}
            for r in study["records"]:
                if r["model"] == model and r["status"] == "ok":
                    by_pid.setdefault(r["pid"], []).extend(s["ms"] for s in r["samples"])
            for i, trace in enumerate(by_pid.values()):
                x = np.arange(1, len(trace) + 1)
                ax.plot(x, trace, "-", marker=".", color=_COLORS[scenario], alpha=0.6, lw=1,
                        label=f"{scenario} ({len(by_pid)} process{'es' if len(by_pid) > 1 else ''})" if i == 0 else None)
                ax.plot([1], [trace[0]], "o", ms=8, mfc="none", color=_COLORS["first"],
                        label="first forward of a process" if (i == 0 and study is separate) else None)
        ax.set_yscale("log")
        ax.set_title(label)
        ax.set_xlabel("forward # in its process")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("time per forward [ms] (log)")
    axes[0][-1].legend(fontsize=7)
    return _finish(fig, separate, f"Per-forward latency, protocol {separate['protocol']} (images differ in size)", path)


def _box(ax: Any, position: float, values: List[float], color: str) -> None:
    if not values:
        return
    ax.boxplot([values], positions=[position], widths=0.32, showfliers=False,
               medianprops={"color": color}, boxprops={"color": color}, whiskerprops={"color": color},
               capprops={"color": color})
    jitter = np.linspace(-0.08, 0.08, len(values)) if len(values) > 1 else [0.0]
    ax.plot(position + np.asarray(jitter), values, "o", color=color, alpha=0.7, ms=4)


def plot_cold_warm(separate: Dict[str, Any], consecutive: Dict[str, Any], path: Optional[PathLike] = None) -> Any:
    """Per model, the run means [ms] cold (each run a fresh process) beside warm (consecutive runs 2..N)."""
    import matplotlib.pyplot as plt

    models = _labels(separate, consecutive)
    warm_from = 2 if consecutive["runs"] > 1 else 1
    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(models), 3.8))
    for i, (model, _) in enumerate(models):
        cold = [v for v in run_values(separate, model).values() if v is not None]
        warm = [v for run, v in run_values(consecutive, model).items() if run >= warm_from and v is not None]
        _box(ax, i - 0.2, cold, _COLORS["cold"])
        _box(ax, i + 0.2, warm, _COLORS["warm"])
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels([label for _, label in models])
    ax.set_xlim(-0.6, len(models) - 0.4)
    ax.set_ylabel("mean time per image in a run [ms]")
    ax.plot([], [], "s", color=_COLORS["cold"], label=f"cold: {separate['runs']} fresh processes")
    ax.plot([], [], "s", color=_COLORS["warm"], label=f"warm: consecutive runs {warm_from}-{consecutive['runs']}")
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", alpha=0.3)
    return _finish(fig, separate, f"Cold vs warm NTIRE runtime, protocol {separate['protocol']}", path)


def plot_first_image_share(separate: Dict[str, Any], consecutive: Dict[str, Any],
                           path: Optional[PathLike] = None) -> Any:
    """Per model, the share [%] of a run's NTIRE mean that its first image accounts for.

    Bars: fresh processes (separate), the first run of the consecutive process, and its later
    runs (the warm share, the reference: what the first image weighs without start-up costs).
    """
    import matplotlib.pyplot as plt

    models = _labels(separate, consecutive)
    cold = first_image_shares(separate)
    first_run = first_image_shares({**consecutive, "records": [r for r in consecutive["records"] if r["run"] == 1]})
    later = first_image_shares({**consecutive, "records": [r for r in consecutive["records"] if r["run"] > 1]})
    groups = (("fresh process (separate)", cold, _COLORS["cold"]),
              ("consecutive run 1", first_run, _COLORS["first"]),
              ("consecutive runs 2-N (warm)", later, _COLORS["warm"]))
    fig, ax = plt.subplots(figsize=(1.8 + 1.8 * len(models), 3.8))
    for g, (name, shares, color) in enumerate(groups):
        for i, (_, label) in enumerate(models):
            values = [100 * v for v in shares.get(label, [])]
            if values:
                x = i + (g - 1) * 0.26
                ax.bar(x, np.mean(values), width=0.24, color=color, alpha=0.5, label=name if i == 0 else None)
                ax.plot([x] * len(values), values, "o", color=color, ms=3)
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels([label for _, label in models])
    ax.set_ylabel("first image's share of the run total [%]")
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", alpha=0.3)
    return _finish(fig, separate, "Share of the NTIRE mean due to the first image", path)
