"""Figures of the field study, one function per figure, drawn from a field document (JSON), never from models.

- :func:`bump_chart`: each entry's rank under the official (cold) runtime and under the warm one, lines
  between, one panel per year the document ranks (the field's own year first; 2024 and 2026 by default), the
  weights from the year records (:mod:`slimrlfn.metrics.years`);
- :func:`psnr_vs_runtime`: PSNR of the first data part [dB] against the warm runtime [ms], marker area
  proportional to the parameters, the PSNR gate of the field's year drawn when the data are the official splits;
- :func:`cold_minus_warm`: per entry, cold minus warm runtime [ms], with the spread (sd) of the cold runs.

The device (and, on a CPU, that it is not a GPU measurement) is written on every figure. An entry whose own code
runs forward passes while it loads (``load_forwards``: it starts its first timed image warm) is marked with a
dagger in every label, and with a red edge in the scatter.
:func:`write_field_figures` saves all three as PNG + PDF.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from slimrlfn.core.devices import device_text
from slimrlfn.core.files import PathLike
from slimrlfn.figures.style import SERIES_COLOURS, place_labels, save_figure
from slimrlfn.metrics.years import YEARS, document_years, year_value

__all__ = ["WARM_MARK", "bump_chart", "cold_minus_warm", "psnr_vs_runtime", "write_field_figures"]

#: The mark of an entry that warms up while it loads.
WARM_MARK = "\u2020"


def _label(e: Dict[str, Any]) -> str:
    return e["key"] + (f" {WARM_MARK}" if _warms(e) else "")


def _warms(e: Dict[str, Any]) -> bool:
    return bool(e.get("load_forwards"))


def _warm_note(entries: List[Dict[str, Any]]) -> str:
    return (f"; {WARM_MARK}: forward passes while it loads (its first timed image is warm)"
            if any(_warms(e) for e in entries) else "")


def _ranked(doc: Dict[str, Any]) -> List[Dict[str, Any]]:
    entries = [e for e in doc["entries"] if e.get("rank_cold") is not None]
    return sorted(entries, key=lambda e: e["rank_cold"])


def _stamp(fig: Any, doc: Dict[str, Any], title: str) -> None:
    fig.suptitle(title)
    fig.text(0.01, 0.005, f"device: {device_text(doc.get('device_info'))}; {doc['runs']} runs per protocol"
             f"{_warm_note(doc['entries'])}",
             fontsize=7, ha="left", va="bottom", color="0.3")
    fig.tight_layout(rect=(0, 0.03, 1, 0.96))


def _tau_text(tau: Optional[float]) -> str:
    return "n/a" if tau is None else f"{tau:.2f}"


def _weights_title(year: str) -> str:
    weights = YEARS[year].weights
    return f"{year} weights" + (f" ({'/'.join(f'{w:g}' for w in weights)})" if weights else "")


def bump_chart(doc: Dict[str, Any]) -> Any:
    """Ranks (1 = best score) cold -> warm, one line per entry; one panel per year ranked, side by side."""
    import matplotlib.pyplot as plt

    entries = _ranked(doc)
    year, years = document_years(doc)
    order = [year] + [y for y in years if y != year]
    fig, axes = plt.subplots(1, len(order), figsize=(5 * len(order), 0.42 * max(len(entries), 4) + 1.6),
                             sharey=True, squeeze=False)
    axes = axes[0]
    for ax, panel in zip(axes, order):
        for index, e in enumerate(entries):
            cold, warm = year_value(e, "rank_cold", panel), year_value(e, "rank_warm", panel)
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            if cold is None:
                continue
            moved = warm is not None and warm != cold
            ax.plot([0, 1] if warm is not None else [0], [cold, warm] if warm is not None else [cold], "-o",
                    color=colour, lw=2.4 if moved else 1.2, alpha=1.0 if moved else 0.6)
            ax.text(-0.04, cold, _label(e), ha="right", va="center", fontsize=8)
            if warm is not None:
                ax.text(1.04, warm, _label(e), ha="left", va="center", fontsize=8)
        ax.set_xlim(-0.9, 1.9)
        ax.set_xticks([0, 1], ["cold (official)", "warm (runs 2..N)"])
        ax.set_title(_weights_title(panel), fontsize=10)
        ax.set_yticks(range(1, len(entries) + 1))
        ax.grid(axis="y", alpha=0.2)
    axes[0].set_ylim(len(entries) + 0.6, 0.4)
    axes[0].set_ylabel("rank (1 = best score)")
    taus = "; ".join(f"{y}: {_tau_text(year_value(doc['ranking'], 'tau', y))}" for y in order)
    _stamp(fig, doc, f"Rank under the official and the warm runtime (Kendall's tau {taus})")
    return fig


def psnr_vs_runtime(doc: Dict[str, Any]) -> Any:
    """PSNR of the first part against the warm runtime (the cold one where no warm exists); area ~ params."""
    import matplotlib.pyplot as plt

    part = doc["parts"][0]
    entries = [e for e in _ranked(doc) if e["measures"]["psnr"].get(part["label"]) is not None]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    params = np.array([e["measures"]["num_parameters"] for e in entries] or [1.0])
    scale = 900.0 / max(float(params.max()), 1e-9)
    protocol = "warm" if all(e.get("runtime_warm_ms") is not None for e in entries) else "cold"
    for index, e in enumerate(entries):
        x, y = e[f"runtime_{protocol}_ms"], e["measures"]["psnr"][part["label"]]
        size = max(e["measures"]["num_parameters"] * scale, 12)
        ax.scatter([x], [y], s=size, alpha=0.55, color=SERIES_COLOURS[index % len(SERIES_COLOURS)], edgecolor="k",
                   lw=0.5)
        if _warms(e):  # a ring, opaque: warm before its first timed image
            ax.scatter([x], [y], s=size, facecolor="none", edgecolor="tab:red", lw=2.0)
    gates = YEARS[document_years(doc)[0]].gates or {}
    if doc.get("official_splits") and part["split"] in gates:
        ax.axhline(gates[part["split"]], color="tab:red", ls="--", lw=1)
        ax.text(ax.get_xlim()[1], gates[part["split"]], f" gate {gates[part['split']]:.2f} dB", color="tab:red",
                fontsize=8, va="bottom", ha="right")
    ax.set_xlabel(f"{protocol} runtime [ms per image]")
    ax.set_ylabel(f"PSNR {part['label']} [dB] (RGB, border 4)")
    ax.grid(alpha=0.3)
    ax.margins(0.12)  # room for the labels at the edges
    fig.canvas.draw()  # final limits before the labels are placed
    place_labels(ax, [e[f"runtime_{protocol}_ms"] for e in entries], [e["measures"]["psnr"][part["label"]]
                                                                       for e in entries], [_label(e) for e in entries])
    _stamp(fig, doc, f"PSNR against the {protocol} runtime (marker area ~ parameters)")
    return fig


def cold_minus_warm(doc: Dict[str, Any]) -> Any:
    """Per entry (cold-rank order): cold minus warm runtime [ms]; error bars: the sd of the cold runs."""
    import matplotlib.pyplot as plt

    entries = [e for e in _ranked(doc) if e.get("cold_minus_warm_ms") is not None]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(entries) + 2), 4.2))
    x = np.arange(len(entries))
    values = [e["cold_minus_warm_ms"] for e in entries]
    spread = [e.get("runtime_cold_sd") or 0.0 for e in entries]
    ax.bar(x, values, yerr=spread, capsize=3, color=[SERIES_COLOURS[0] if v >= 0 else SERIES_COLOURS[5]
                                                    for v in values])
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, [e["key"] for e in entries], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("cold - warm runtime [ms per image]")
    ax.grid(axis="y", alpha=0.3)
    _stamp(fig, doc, "What the official protocol adds: cold minus warm (error bars: sd of the cold runs)")
    return fig


def write_field_figures(doc: Dict[str, Any], figures_dir: PathLike, prefix: str = "06",
                        close: bool = True) -> List[Path]:
    """Save the three figures as ``<prefix>_field_bump``, ``_psnr_runtime``, ``_cold_minus_warm`` (PNG + PDF)."""
    import matplotlib.pyplot as plt

    written: List[Path] = []
    for stem, draw in (("field_bump", bump_chart), ("field_psnr_runtime", psnr_vs_runtime),
                       ("field_cold_minus_warm", cold_minus_warm)):
        fig = draw(doc)
        written += save_figure(fig, figures_dir, f"{prefix}_{stem}", close=False)
        if close:
            plt.close(fig)
    return written
