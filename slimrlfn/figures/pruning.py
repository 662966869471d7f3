"""Figures of the pruning trade-off explorer: one function per figure, from the records a run writes.

Every function takes step records (the dicts of ``records.jsonl``, see
:mod:`slimrlfn.prune.schedule`) keyed by a run label (e.g. the criterion), optional reference points
(:func:`slimrlfn.prune.measure.reference_records`, e.g. the official SlimRLFN and SlimRLFN-prune,
marked on every plot), an ``out_dir`` and a ``stem``, draws on a fresh Figure and saves PNG + PDF
with :func:`slimrlfn.figures.style.save_figure`. Figures that show latency name the device.
:class:`slimrlfn.prune.explorer.TradeoffExplorer` is the interactive view of the same records for JupyterLab.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from slimrlfn.core.files import PathLike
from slimrlfn.figures.style import SERIES_COLOURS, save_figure
from slimrlfn.metrics.score import SCORE_YEAR

__all__ = ["ntire_score_figure", "trajectory_figure", "width_heatmap_figure"]

Records = Sequence[Mapping[str, Any]]
_REF_MARKERS = ("*", "P", "X", "D")
_AXES = (("flops_g", "FLOPs [G] (fvcore, 1x3x256x256)"), ("params_m", "parameters [M]"),
         ("latency_ratio", "latency / RLFN latency (timed alternately)"))


def _check(runs: Mapping[str, Records]) -> None:
    if not runs or not all(len(r) for r in runs.values()):
        raise ValueError("need at least one run with at least one record")


def _references(ax: Any, references: Optional[Mapping[str, Mapping[str, Any]]], x_key: str, y_key: str,
                annotate: bool = True) -> None:
    for i, (label, row) in enumerate((references or {}).items()):
        ax.plot([row[x_key]], [row[y_key]], marker=_REF_MARKERS[i % len(_REF_MARKERS)], markersize=11,
                color="black", markerfacecolor="#FFD700" if i == 0 else "#BBBBBB", linestyle="none",
                label=f"{label} (official)", zorder=5)
        if annotate:
            ax.annotate(label, (row[x_key], row[y_key]), xytext=(6, 6), textcoords="offset points", fontsize=7)


def _error_bars(ax: Any, records: Records, key: str, ci_key: str, other: Sequence[float], colour: str,
                horizontal: bool = False) -> None:
    """Error bars of ``records[i][ci_key]`` (an interval around ``records[i][key]``), where records carry one."""
    have = [(r, o) for r, o in zip(records, other) if r.get(ci_key)]
    if not have:
        return
    values = np.array([r[key] for r, _ in have])
    spans = np.array([[r[key] - r[ci_key][0], r[ci_key][1] - r[key]] for r, _ in have]).T.clip(min=0)
    others = [o for _, o in have]
    if horizontal:
        ax.errorbar(values, others, xerr=spans, fmt="none", ecolor=colour, elinewidth=1, capsize=2, alpha=0.8)
    else:
        ax.errorbar(others, values, yerr=spans, fmt="none", ecolor=colour, elinewidth=1, capsize=2, alpha=0.8)


def _device_text(runs: Mapping[str, Records], references: Optional[Mapping[str, Mapping[str, Any]]]) -> str:
    for records in runs.values():
        latency = records[0].get("latency", {})
        if latency:
            shape = "x".join(str(v) for v in latency.get("input_shape", []))
            return f"{latency.get('device', '?')}, torch threads: {latency.get('threads', '?')}, input {shape}"
    return "device unknown"


def trajectory_figure(
    runs: Mapping[str, Records],
    out_dir: PathLike,
    stem: str = "pruning_trajectory",
    references: Optional[Mapping[str, Mapping[str, Any]]] = None,
    device_name: Optional[str] = None,
    title: Optional[str] = None,
) -> List[Path]:
    """PSNR against FLOPs, params and latency, one line per run (step by step), references marked.

    Filled markers: PSNR after fine-tuning; open markers joined by thin dashes: right after the
    surgery, before fine-tuning. Latency is the median on the device of the records divided by
    the median of RLFN timed alternately with it (less sensitive to the load of a shared machine
    than either alone).
    """
    _check(runs)
    fig = Figure(figsize=(14, 4.4), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, (key, label) in zip(axes, _AXES):
        for i, (name, records) in enumerate(runs.items()):
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            xs = [r[key] for r in records]
            ax.plot(xs, [r["psnr_after"] for r in records], marker="o", color=colour, label=f"{name} (fine-tuned)")
            if key == "latency_ratio":  # the 95 % interval of each paired ratio
                _error_bars(ax, records, "latency_ratio", "latency_ratio_ci", [r["psnr_after"] for r in records],
                            colour, horizontal=True)
            ax.plot(xs[1:], [r["psnr_before"] for r in records[1:]], marker="o", markerfacecolor="none",
                    linestyle=":", linewidth=0.8, color=colour, label=f"{name} (before fine-tuning)")
            for r in records:
                ax.annotate(str(r["step"]), (r[key], r["psnr_after"]), xytext=(3, -9), textcoords="offset points",
                            fontsize=6, color=colour)
        _references(ax, references, key, "psnr")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
        if key == "latency_ratio":
            ax.set_title(f"latency on {device_name or _device_text(runs, references)}", fontsize=8)
    axes[0].set_ylabel("validation PSNR [dB] (RGB, border 4)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(6, len(labels)), fontsize=8, frameon=False)
    fig.suptitle(title or "Iterative pruning: PSNR against cost (numbers: step)")
    return save_figure(fig, out_dir, stem)


def width_heatmap_figure(
    runs: Mapping[str, Records],
    out_dir: PathLike,
    stem: str = "pruning_widths",
    references: Optional[Mapping[str, Mapping[str, Any]]] = None,
    units: Optional[Sequence[str]] = None,
    title: Optional[str] = None,
) -> List[Path]:
    """Per-unit widths (rows: ``b1.c1_r`` .. ``features``) across steps (columns), one panel per run.

    ``references`` (rows with ``widths``, e.g. the official SlimRLFN-prune) get a last panel, one
    column each; a reference of another architecture (RLFN beside a SlimRLFN run: other units) is left out. ``units`` picks the rows (default: every unit whose width changes in some run or
    differs in a reference, else all inner ones).
    """
    _check(runs)
    all_units = list(runs[next(iter(runs))][0]["widths"])
    columns = {name: [(str(r["step"]), r["widths"]) for r in records] for name, records in runs.items()}
    same = [(label, row["widths"]) for label, row in (references or {}).items()
            if set(all_units) <= set(row.get("widths") or {})]
    if same:
        columns["official"] = same
    if units is None:
        units = [u for u in all_units if len({w[u] for cols in columns.values() for _, w in cols}) > 1]
        units = units or [u for u in all_units if u.endswith(("c1_r", "c2_r"))]
    total = sum(len(c) for c in columns.values())
    fig = Figure(figsize=(2.2 + 0.5 * total + 0.4 * len(columns), 0.9 + 0.28 * len(units)), layout="constrained")
    axes = fig.subplots(1, len(columns), squeeze=False, width_ratios=[len(c) for c in columns.values()])[0]
    top = max(w[u] for cols in columns.values() for _, w in cols for u in units)
    image = None
    for ax, (name, cols) in zip(axes, columns.items()):
        grid = np.array([[w[u] for _, w in cols] for u in units], dtype=float)
        image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=0, vmax=top)
        for (row, col), value in np.ndenumerate(grid):
            ax.text(col, row, f"{value:.0f}", ha="center", va="center", fontsize=6,
                    color="white" if value < 0.6 * top else "black")
        official = name == "official" and references
        ax.set_xticks(range(len(cols)), [label for label, _ in cols], fontsize=7,
                      rotation=30 if official else 0, ha="right" if official else "center")
        ax.set_yticks(range(len(units)), units if ax is axes[0] else [""] * len(units), fontsize=7)
        ax.set_xlabel("" if official else "step")
        ax.set_title(name, fontsize=9)
    fig.colorbar(image, ax=list(axes), label="channels", shrink=0.9)
    fig.suptitle(title or "Width of every pruned unit across steps")
    return save_figure(fig, out_dir, stem)


def ntire_score_figure(
    runs: Mapping[str, Records],
    out_dir: PathLike,
    stem: str = "pruning_ntire_score",
    references: Optional[Mapping[str, Mapping[str, Any]]] = None,
    device_name: Optional[str] = None,
    title: Optional[str] = None,
) -> List[Path]:
    """The NTIRE ESR score of :data:`slimrlfn.metrics.score.SCORE_YEAR` (relative to RLFN, lower is better) per step with its 95 % interval (from the
    paired latency ratio), references as lines with their interval shaded."""
    _check(runs)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    for i, (name, records) in enumerate(runs.items()):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        ax.plot([r["step"] for r in records], [r["ntire_score"] for r in records], marker="o", color=colour, label=name)
        _error_bars(ax, records, "ntire_score", "ntire_score_ci", [r["step"] for r in records], colour)
    styles = ("--", "-.", ":")
    for i, (label, row) in enumerate((references or {}).items()):
        ax.axhline(row["ntire_score"], color="black", linestyle=styles[i % 3], linewidth=1,
                   label=f"{label} (official): {row['ntire_score']:.3f}")
        if row.get("ntire_score_ci"):
            ax.axhspan(*row["ntire_score_ci"], color="black", alpha=0.08)
    ax.axhline(np.exp(2.0), color="#D55E00", linewidth=0.8, label="RLFN (by definition): e\u00b2 = 7.389")
    ax.set_xlabel("step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("NTIRE score (lower is better)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(title or f"NTIRE {SCORE_YEAR} ESR score per step; runtime on "
                          f"{device_name or _device_text(runs, references)}",
                 fontsize=9)
    return save_figure(fig, out_dir, stem)
