"""Figures of the architectures: per-layer widths of model configs, and their counts (params, FLOPs, activations).

From configs (:mod:`slimrlfn.arch.config`) and count rows (:func:`slimrlfn.metrics.counts.profile_model`),
never from models; saved with :func:`slimrlfn.figures.style.save_figure`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from slimrlfn.arch.widths import PRUNABLE_KINDS, layer_widths
from slimrlfn.core.files import PathLike
from slimrlfn.figures.style import SERIES_COLOURS, save_figure

__all__ = ["channel_widths_figure", "counts_figure"]

#: Bar colours by layer kind (colour-blind safe Okabe-Ito hues).
_KIND_COLOURS = {
    "conv_1": "#999999", "conv_2": "#999999",
    "c1_r": "#E69F00", "c2_r": "#D55E00",
    "c3_r": "#0072B2", "c5": "#56B4E9",
    "upsampler": "#009E73",
}
_KIND_LABELS = {
    "conv_1": "conv_1 / conv_2 (features)", "c1_r": "c1_r (prunable)", "c2_r": "c2_r (prunable)",
    "c3_r": "c3_r (features)", "c5": "c5 (features)", "upsampler": "upsampler conv (3 x scale\u00b2)",
}



def channel_widths_figure(
    configs: Mapping[str, Dict[str, Any]],
    out_dir: PathLike,
    stem: str = "channel_widths",
    title: Optional[str] = "Output channels per conv layer (forward order)",
) -> List[Path]:
    """Per-layer output widths of each model config, one panel per model stacked on a shared scale.

    ``configs`` maps a label (e.g. 'SlimRLFN-prune') to a model config
    (:func:`slimrlfn.arch.config.config_of` or ``ZOO[name].config``). Pruned widths are written on the bars.
    """
    if not configs:
        raise ValueError("channel_widths_figure needs at least one config")
    layers = {label: layer_widths(config) for label, config in configs.items()}
    longest = max(len(v) for v in layers.values())
    top = max(layer.width for v in layers.values() for layer in v)
    fig = Figure(figsize=(max(8.0, 0.3 * longest + 1.5), 2.3 * len(layers) + 0.6), layout="constrained")
    axes = fig.subplots(len(layers), 1, sharey=True, squeeze=False)[:, 0]
    for ax, (label, model_layers) in zip(axes, layers.items()):
        x = np.arange(len(model_layers))
        colours = [_KIND_COLOURS[layer.kind] for layer in model_layers]
        ax.bar(x, [layer.width for layer in model_layers], color=colours, width=0.8, edgecolor="none")
        for i, layer in enumerate(model_layers):
            if layer.kind in PRUNABLE_KINDS:
                ax.text(i, layer.width + 0.8, str(layer.width), ha="center", va="bottom", fontsize=6.5)
        ax.set_xticks(x, [layer.name for layer in model_layers], rotation=90, fontsize=7)
        ax.set_xlim(-0.7, longest - 0.3)
        ax.set_ylim(0, top * 1.18)
        ax.set_ylabel("output channels")
        ax.set_title(f"{label}: {len(model_layers)} convs on the main path", fontsize=10, loc="left")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    axes[-1].set_xlabel("layer (forward order; ESA branch not shown)")
    kinds = [k for k in _KIND_LABELS]
    handles = [Patch(color=_KIND_COLOURS[k], label=_KIND_LABELS[k]) for k in kinds]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return save_figure(fig, out_dir, stem)


#: (row key, legend label) of the compute panel of :func:`counts_figure`.
_COMPUTE_SERIES = (
    ("flops", "FLOPs (fvcore, NTIRE)"),
    ("macs_ptflops_aten", "MACs (ptflops, aten)"),
    ("macs_ptflops_pytorch", "MACs (ptflops, pytorch)"),
)


def _bar_labels(ax: Any, bars: Any, fmt: str, fontsize: float = 7) -> None:
    for bar in bars:
        ax.annotate(fmt.format(bar.get_height()), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=fontsize)


def counts_figure(
    rows: Sequence[Mapping[str, Any]],
    out_dir: PathLike,
    stem: str = "model_counts",
    title: Optional[str] = None,
) -> List[Path]:
    """Parameters (M), compute (G: fvcore FLOPs and ptflops MACs, grouped) and activations (M) per model.

    ``rows`` are :func:`slimrlfn.metrics.counts.profile_model` dicts with a ``model`` label added. A compute
    series is drawn only when every row has a value for it (``flops`` is required; ptflops gives None for a
    model it cannot count).
    """
    if not rows:
        raise ValueError("counts_figure needs at least one row")
    for key in ("model", "num_parameters", "flops", "activations"):
        missing = [i for i, row in enumerate(rows) if key not in row]
        if missing:
            raise ValueError(f"counts_figure: row {missing[0]} has no {key!r} key")
    labels = [str(row["model"]) for row in rows]
    shape = rows[0].get("input_shape", [1, 3, 256, 256])
    shape_text = "x".join(str(s) for s in shape)
    series = [(key, name) for key, name in _COMPUTE_SERIES if all(row.get(key) is not None for row in rows)]
    width = min(3.2 + 1.3 * len(rows) * (1 + len(series) / 2), 26.0)  # a whole challenge field stays on a page
    fig = Figure(figsize=(width, 3.8), layout="constrained")
    ax_params, ax_compute, ax_acts = fig.subplots(1, 3, width_ratios=[1, 1 + len(series) / 2, 1])
    x = np.arange(len(rows))
    colours = [SERIES_COLOURS[i % len(SERIES_COLOURS)] for i in range(len(rows))]
    for ax, key, ylabel, fmt in ((ax_params, "num_parameters", "parameters [M]", "{:.3f}"),
                                 (ax_acts, "activations", "activations [M]", "{:.1f}")):
        bars = ax.bar(x, [row[key] for row in rows], color=colours, width=0.7)
        _bar_labels(ax, bars, fmt)
        ax.set_xticks(x, labels, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
        ax.margins(y=0.15)
    ax_params.set_title("Parameters", fontsize=10)
    ax_acts.set_title(f"Conv-output activations\n(input {shape_text})", fontsize=10)
    width = 0.8 / len(series)
    greys = ("#333333", "#888888", "#BBBBBB")
    for j, (key, name) in enumerate(series):
        offsets = x - 0.4 + width * (j + 0.5)
        bars = ax_compute.bar(offsets, [row[key] for row in rows], width=width, color=greys[j % 3],
                              edgecolor="black", linewidth=0.5, label=name)
        _bar_labels(ax_compute, bars, "{:.2f}", fontsize=6)
    ax_compute.set_xticks(x, labels, rotation=20, ha="right", fontsize=8)
    ax_compute.set_ylabel("operations [G]")
    ax_compute.set_title(f"Compute (input {shape_text})", fontsize=10)
    ax_compute.margins(y=0.2)
    ax_compute.legend(fontsize=7, loc="upper right", frameon=False)
    for ax in (ax_params, ax_compute, ax_acts):
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    if title:
        fig.suptitle(title)
    return save_figure(fig, out_dir, stem)
