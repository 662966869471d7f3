"""The factsheet's figures, in one style, PNG + PDF with a ``05_`` prefix, from the results of notebooks 01-04.

- ``05_tradeoff``: PSNR against FLOPs, marker area proportional to the parameters: RLFN, SlimRLFN,
  SlimRLFN-prune (PSNR of notebook 03, and as notebook 02 measured them) and the workbook's own pruned
  models (the last step of each criterion of notebook 02) - :func:`tradeoff_figure`, the one new figure;
- ``05_pruning_trajectory``: :func:`slimrlfn.figures.pruning.trajectory_figure`;
- ``05_latency_traces`` and ``05_cold_vs_warm``: :func:`slimrlfn.figures.timing.plot_latency_traces` and
  :func:`~slimrlfn.figures.timing.plot_cold_warm` (they write the device on the figure);

The SR crops are notebook 03's figure (``03_sr_crops``): the factsheet names it and does not save a copy.

Every figure is drawn under :data:`FACTSHEET_STYLE` (one set of font sizes, TrueType fonts in the PDF
as paper templates ask; colours are the Okabe-Ito hues of the reused functions) and saved atomically
with :func:`slimrlfn.figures.save_figure`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from slimrlfn.core.files import PathLike
from slimrlfn.factsheet.data import FactsheetInputs
from slimrlfn.figures.pruning import trajectory_figure
from slimrlfn.figures.style import save_figure
from slimrlfn.figures.timing import plot_cold_warm, plot_latency_traces

__all__ = ["FACTSHEET_STYLE", "FIGURE_STEMS", "tradeoff_figure", "tradeoff_points", "write_figures"]



#: rcParams every factsheet figure is drawn with.
FACTSHEET_STYLE: Dict[str, Any] = {
    "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9, "legend.fontsize": 8,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "figure.titlesize": 11, "grid.alpha": 0.3,
    "savefig.dpi": 150, "pdf.fonttype": 42, "ps.fonttype": 42,
}
#: The figures :func:`write_figures` writes (stems without the prefix).
FIGURE_STEMS = ("tradeoff", "pruning_trajectory", "latency_traces", "cold_vs_warm")

_MODEL_COLOURS = ("#D55E00", "#0072B2", "#009E73", "#E69F00", "#56B4E9", "#000000")  # Okabe-Ito
#: One colour per pruning criterion (the pruned models' diamonds), apart from the models' colours.
_CRITERION_COLOURS = ("#CC79A7", "#882255", "#44AA99", "#999933", "#AA4499", "#332288")
_AREA_PER_M = 2000.0  # marker area [pt^2] per million parameters


def tradeoff_points(inputs: FactsheetInputs) -> List[Dict[str, Any]]:
    """The points of :func:`tradeoff_figure`: ``{label, kind, psnr, flops_g, params_m, images}``.

    ``kind`` is ``official`` (PSNR of notebook 03, valid split), ``reference`` (the official models as
    notebook 02 measured them, on its validation images) or ``pruned`` (the last step of each
    criterion of notebook 02, when it pruned anything). ``images`` is the number of PSNR images.
    """
    counts = {row["model"]: row for row in inputs.model_definition["counts"]}
    entries = {entry.get("model", name): entry for name, entry in inputs.eval_results.items()}
    points = []
    for label, row in counts.items():
        entry = entries.get(label)
        if entry and "valid_ave_psnr" in entry:
            points.append({"label": label, "kind": "official", "psnr": entry["valid_ave_psnr"],
                           "flops_g": row["flops"], "params_m": row["num_parameters"],
                           "images": len(entry.get("valid_names", []))})
    for label, ref in inputs.pruning["references"].items():
        points.append({"label": label, "kind": "reference", "psnr": ref["psnr"], "flops_g": ref["flops_g"],
                       "params_m": ref["params_m"], "images": len(ref.get("psnr_per_image", {}))})
    for criterion, records in inputs.pruning["runs"].items():
        last = records[-1] if records else None
        if last is not None and last["step"] > 0:
            points.append({"label": f"{criterion}, step {last['step']}", "criterion": criterion, "kind": "pruned",
                           "psnr": last["psnr_after"],
                           "flops_g": last["flops_g"], "params_m": last["params_m"],
                           "images": len(last.get("psnr_per_image", {}))})
    return points


def _series_name(kind: str, images: Sequence[int]) -> str:
    count = "/".join(str(n) for n in sorted(set(images)))
    return {"official": f"official models, PSNR from notebook 03 ({count} valid images)",
            "reference": f"official models as notebook 02 measured them ({count} valid images)",
            "pruned": f"the workbook's pruned models, notebook 02 ({count} valid images)"}[kind]


def tradeoff_figure(
    points: Sequence[Mapping[str, Any]],
    out_dir: PathLike,
    stem: str = "tradeoff",
    title: Optional[str] = None,
) -> List[Path]:
    """PSNR [dB] against FLOPs [G], marker area proportional to parameters, every point labelled.

    ``points`` as :func:`tradeoff_points` returns them. Official models are filled circles, one colour
    per model; the same models measured on notebook 02's images are open circles of the same colour
    (compare pruned models with those, they share the images); pruned models are diamonds, one colour per
    criterion, named in the legend (their labels would overprint: they sit close together).
    """
    if not points:
        raise ValueError("tradeoff_figure needs at least one point")
    fig = Figure(figsize=(7.2, 4.8), layout="constrained")
    ax = fig.subplots()
    labels = list(dict.fromkeys(p["label"] for p in points if p["kind"] != "pruned"))
    colours = {label: _MODEL_COLOURS[i % len(_MODEL_COLOURS)] for i, label in enumerate(labels)}
    criteria = list(dict.fromkeys(p.get("criterion", p["label"]) for p in points if p["kind"] == "pruned"))
    criterion_colours = {c: _CRITERION_COLOURS[i % len(_CRITERION_COLOURS)] for i, c in enumerate(criteria)}
    handles = []
    for kind, marker in (("official", "o"), ("reference", "o"), ("pruned", "D")):
        chosen = [p for p in points if p["kind"] == kind]
        if not chosen:
            continue
        for rank, p in enumerate(sorted(chosen, key=lambda p: (p["flops_g"], p["psnr"]))):
            pruned = kind == "pruned"
            colour = criterion_colours[p.get("criterion", p["label"])] if pruned else colours[p["label"]]
            face = "none" if kind == "reference" else colour
            area = _AREA_PER_M * p["params_m"]
            ax.scatter([p["flops_g"]], [p["psnr"]], s=area, marker=marker,
                       facecolors=face, edgecolors=colour, linewidths=1.5, alpha=0.85, zorder=3)
            if pruned:
                continue  # named in the legend, one colour per criterion: their labels would fall on each other
            side = -1 if rank % 2 == 0 else 1  # alternate left / right so that neighbours' labels do not collide
            ax.annotate(p["label"], (p["flops_g"], p["psnr"]), xytext=(side * (np.sqrt(area) / 2 + 3), 0),
                        textcoords="offset points", ha="right" if side < 0 else "left", va="center",
                        fontsize=7, color="0.2")
        handles.append(Line2D([], [], marker=marker, linestyle="none", markersize=8, color="0.35",
                              markerfacecolor="none" if kind == "reference" else "0.35",
                              label=_series_name(kind, [p["images"] for p in chosen])))
        if kind == "pruned":
            for p in chosen:
                colour = criterion_colours[p.get("criterion", p["label"])]
                handles.append(Line2D([], [], marker="D", linestyle="none", markersize=7, color=colour,
                                      label=f"pruned: {p['label']}"))
    for size in (0.1, 0.2, 0.3):
        handles.append(Line2D([], [], marker="o", linestyle="none", color="0.6", alpha=0.6,
                              markersize=float(np.sqrt(_AREA_PER_M * size)), label=f"{size:.1f} M parameters"))
    ax.set_xlabel("FLOPs [G] (fvcore, 1\u00d73\u00d7256\u00d7256)")
    ax.set_ylabel("PSNR, valid [dB] (RGB, border 4)")
    flops = [p["flops_g"] for p in points]
    span = max(max(flops) - min(flops), 1.0)
    ax.set_xlim(min(flops) - 0.3 * span, max(flops) + 0.18 * span)  # room for the labels on either side
    ax.margins(y=0.2)
    ax.grid(alpha=0.3)
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False, labelspacing=1.3)
    ax.set_title(title or "x4 SR: PSNR against FLOPs (marker area \u221d parameters)")
    return save_figure(fig, out_dir, stem)


def write_figures(inputs: FactsheetInputs, figures_dir: PathLike, prefix: str = "05_") -> List[Path]:
    """Write the :data:`FIGURE_STEMS` figures as ``<prefix><stem>.png`` and ``.pdf``; returns the paths."""
    figures_dir = Path(figures_dir)
    paths: List[Path] = []
    with matplotlib.rc_context(FACTSHEET_STYLE):
        paths += tradeoff_figure(tradeoff_points(inputs), figures_dir, f"{prefix}tradeoff")
        paths += trajectory_figure(inputs.pruning["runs"], figures_dir, f"{prefix}pruning_trajectory",
                                   references=inputs.pruning["references"], device_name=inputs.pruning["device"])
        paths += save_figure(plot_latency_traces(inputs.separate, inputs.consecutive), figures_dir,
                             f"{prefix}latency_traces")
        paths += save_figure(plot_cold_warm(inputs.separate, inputs.consecutive), figures_dir, f"{prefix}cold_vs_warm")
    return paths
