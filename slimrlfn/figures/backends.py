"""Figures of the backend comparison (:func:`slimrlfn.deploy.bench.compare_backends` documents).

Each function takes the document (a dict, as written to JSON), returns the matplotlib figure and,
with ``path``, saves it as PNG and PDF with the same stem. The device and thread count are written on
every figure; axes carry units.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from slimrlfn.core.files import PathLike
from slimrlfn.figures.style import save_figure, split_stem

__all__ = ["baseline_model", "plot_flops_vs_speedup", "plot_backend_cold_warm", "speedups"]

BASELINE = "rlfn"


def baseline_model(document: Dict[str, Any]) -> Optional[str]:
    """The model key the speed-ups are relative to: ``rlfn`` (the zoo's), else a challenge's ``00_`` entry
    (the organisers' baseline, id 0), else the first model measured; None when nothing was."""
    models = list(dict.fromkeys(r["model"] for r in document["rows"]))
    if BASELINE in models:
        return BASELINE
    return next((m for m in models if str(m).startswith("00_")), models[0] if models else None)


def _label_of(document: Dict[str, Any], model: Optional[str]) -> str:
    return next((r["label"] for r in document["rows"] if r["model"] == model), str(model))


def _device_text(document: Dict[str, Any]) -> str:
    info = document["device_info"]
    gpu = info.get("device_type", "cpu") == "cuda" or str(info.get("device", "")).startswith("cuda")
    note = "" if gpu else " - CPU, not a GPU measurement"
    return (f"device: {info['device_name']}, {document['threads']} threads, fp32 matmul peak "
            f"{document['peak']['gflops']:.0f} GFLOP/s{note}")


def _finish(fig: Any, document: Dict[str, Any], title: str, path: Optional[PathLike]) -> Any:
    fig.suptitle(title)
    fig.text(0.01, 0.005, _device_text(document), fontsize=7, ha="left", va="bottom", color="0.3")
    fig.tight_layout(rect=(0, 0.03, 1, 0.95))
    if path is not None:
        save_figure(fig, *split_stem(path), close=False)  # left open: a notebook shows it inline
    return fig


def _sizes(document: Dict[str, Any]) -> List[List[int]]:
    seen: List[List[int]] = []
    for row in document["rows"]:
        if list(row["size"]) not in seen:
            seen.append(list(row["size"]))
    return seen


def speedups(document: Dict[str, Any], size: List[int]) -> List[Dict[str, Any]]:
    """Per backend and model at ``size``: FLOPs reduction and speed-up relative to the baseline
    (:func:`baseline_model`, RLFN by default) on the same backend.

    ``flops_reduction`` = 1 - FLOPs / FLOPs(baseline) (0..1); ``speedup`` = median(baseline) / median(model).
    Empty when the baseline was not measured at that size.
    """
    baseline = baseline_model(document)
    rows = [r for r in document["rows"] if list(r["size"]) == list(size)]
    base = {r["backend"]: r for r in rows if r["model"] == baseline}
    return [{"backend": r["backend"], "resolved": r["resolved"], "model": r["model"], "label": r["label"],
             "flops_reduction": 1.0 - r["flops_g"] / base[r["backend"]]["flops_g"],
             "speedup": base[r["backend"]]["median_ms"] / r["median_ms"]}
            for r in rows if r["backend"] in base]


def plot_flops_vs_speedup(document: Dict[str, Any], path: Optional[PathLike] = None) -> Any:
    """One panel per input size: FLOPs reduction vs the baseline [%] against the speed-up reached [x], per backend.

    The dashed line is the speed-up FLOPs alone would promise (1 / (1 - reduction)).
    """
    import matplotlib.pyplot as plt

    sizes = [s for s in _sizes(document) if speedups(document, s)]
    baseline = baseline_model(document)
    if not sizes:
        raise ValueError("plot_flops_vs_speedup: no model was measured")
    base_label = _label_of(document, baseline)
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.2 * len(sizes), 5.0), squeeze=False)  # room for the names
    for ax, size in zip(axes[0], sizes):
        points = speedups(document, size)
        reductions = np.linspace(0, max(p["flops_reduction"] for p in points) * 1.1 + 1e-3, 50)
        ax.plot(reductions * 100, 1 / (1 - reductions), "k--", lw=1, label="FLOPs-proportional")
        for backend in dict.fromkeys(p["backend"] for p in points):
            mine = sorted((p for p in points if p["backend"] == backend), key=lambda p: p["flops_reduction"])
            label = backend if mine[0]["resolved"] == backend else f"{backend} ({mine[0]['resolved']})"
            ax.plot([p["flops_reduction"] * 100 for p in mine], [p["speedup"] for p in mine], "o-", label=label)
        # each model sits at one FLOPs reduction whatever the backend: a dotted line, named once above the axes
        # (inside, the names ran into the points of the backends)
        models = {p["model"]: p for p in points if p["model"] != baseline}
        for p in models.values():
            ax.axvline(p["flops_reduction"] * 100, color="0.75", lw=0.8, ls=":", zorder=0)
        top = ax.secondary_xaxis("top")
        top.set_xticks([p["flops_reduction"] * 100 for p in models.values()])
        top.set_xticklabels([p["label"] for p in models.values()], rotation=90, fontsize=7, color="0.35")
        top.tick_params(length=0, pad=2)
        ax.axhline(1.0, color="0.7", lw=0.8)
        ax.set_xlabel(f"FLOPs reduction vs {base_label} [%]")
        ax.set_ylabel(f"speed-up vs {base_label} on the same backend [x]")
        longest = max((len(p["label"]) for p in models.values()), default=0)
        ax.set_title(f"LR {size[0]}x{size[1]}", pad=6 + 4.2 * longest)  # above the rotated model names
        ax.legend(fontsize=7, loc="upper left")
    return _finish(fig, document, "FLOPs saved vs time saved, per inference path", path)


def plot_backend_cold_warm(document: Dict[str, Any], model: str = "slimrlfn_prune", path: Optional[PathLike] = None) -> Any:
    """Per backend, for ``model`` at each size: cold (set-up + first call) and warm (median) [ms, log scale]."""
    import matplotlib.pyplot as plt

    sizes = [s for s in _sizes(document) if any(r["model"] == model and list(r["size"]) == s for r in document["rows"])]
    if not sizes:
        raise ValueError(f"plot_backend_cold_warm: {model} was not measured")
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.2 * len(sizes), 4.2), squeeze=False)
    for ax, size in zip(axes[0], sizes):
        rows = [r for r in document["rows"] if r["model"] == model and list(r["size"]) == size]
        x = np.arange(len(rows))
        cold = [r["setup_s"] * 1000.0 + r["first_ms"] for r in rows]
        warm = [r["median_ms"] for r in rows]
        ax.bar(x - 0.2, cold, 0.4, color="tab:red", label="cold: set-up + first call")
        ax.bar(x + 0.2, warm, 0.4, color="tab:blue", label="warm: median call",
               yerr=[r["iqr_ms"] / 2 for r in rows], capsize=2)
        ax.set_yscale("log")
        ax.set_xticks(x)
        ax.set_xticklabels([r["backend"] if r["backend"] == r["resolved"] else f"{r['backend']}\n({r['resolved']})"
                            for r in rows], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("time [ms, log scale]")
        ax.set_title(f"{rows[0]['label']}, LR {size[0]}x{size[1]}")
        ax.set_ylim(top=max(cold + warm) * 4)  # room for the legend above the bars
        ax.legend(fontsize=7, loc="upper right")
    return _finish(fig, document, "Cold and warm, per inference path (one process)", path)
