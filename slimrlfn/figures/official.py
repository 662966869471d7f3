"""Figures of the official analysis, one function per figure, drawn from its document (JSON), never from models.

- :func:`official_bump_chart`: per track (main, then the sub-tracks), each entry's rank under the published runtime
  and under the runtime with the first valid image removed (:mod:`slimrlfn.official.rescore`), lines between; an
  entry ranked on one side only (it joins or leaves the track) is a lone marker;
- :func:`first_image_chart`: per entry, the first valid image minus the median valid image [ms] (log scale), the
  Ave Time the first image adds written on each bar;
- :func:`log_runs_chart`: the runs of the organisers' log in order, valid, test and Ave Time [ms], with the
  baseline runtime the README states.

Where the organisers measured ("RTX A6000, organisers' run, 2026") is written on every figure. An entry whose own
code runs forward passes while it loads (it starts its first timed image warm) carries a dagger and a hatched
bar; where that count is unknown (not loaded, or does not load here) the figure says so.
:func:`write_official_figures` saves those the document can draw as PNG + PDF.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from slimrlfn.core.files import PathLike
from slimrlfn.figures.style import SERIES_COLOURS, save_figure

__all__ = ["OFFICIAL_WARM_MARK", "first_image_chart", "log_runs_chart", "official_bump_chart", "write_official_figures"]

#: The mark of an entry that warms up while it loads.
OFFICIAL_WARM_MARK = "\u2020"
_PROTOCOLS = ("official", "first_image_removed")
_FLOOR_MS = 0.01  # bars shorter than this are drawn at it (a log axis has no zero)


def _label(entry: Dict[str, Any]) -> str:
    return entry["key"] + (f" {OFFICIAL_WARM_MARK}" if entry["load_forwards"]["count"] else "")


def _footer(doc: Dict[str, Any], entries: List[Dict[str, Any]]) -> str:
    text = f"{doc['device']}"
    if any(e["load_forwards"]["count"] for e in entries):
        text += f"; {OFFICIAL_WARM_MARK}: forward passes while it loads (its first timed image is warm)"
    unknown = [e for e in entries if e["load_forwards"]["count"] is None]
    if unknown:
        text += (f"; load-time forwards unknown for {len(unknown)} of {len(entries)} "
                 f"({'not loaded' if len(unknown) == len(entries) else ', '.join(e['key'] for e in unknown)})")
    return text


def _stamp(fig: Any, doc: Dict[str, Any], entries: List[Dict[str, Any]], title: str) -> None:
    fig.suptitle(title)
    fig.text(0.01, 0.005, _footer(doc, entries), fontsize=7, ha="left", va="bottom", color="0.3")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))


def _tau(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def official_bump_chart(doc: Dict[str, Any]) -> Any:
    """Ranks per track, published runtime -> first image removed; lone markers join or leave a track."""
    import matplotlib.pyplot as plt

    entries, tracks = doc["entries"], doc["tracks"]
    most = max([1] + [e["protocols"][p]["tracks"][t]["rank"] or 0 for e in entries for p in _PROTOCOLS for t in tracks])
    fig, axes = plt.subplots(1, len(tracks), figsize=(4.8 * len(tracks), 0.42 * max(most, 6) + 2.4), squeeze=False)
    for ax, track in zip(axes[0], tracks):
        for index, e in enumerate(entries):
            before, after = (e["protocols"][p]["tracks"][track]["rank"] for p in _PROTOCOLS)
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            if before is None and after is None:
                continue
            if before is not None and after is not None:
                moved = before != after
                ax.plot([0, 1], [before, after], "-o", color=colour, lw=2.4 if moved else 1.2,
                        alpha=1 if moved else 0.6)
            else:
                ax.plot([0 if before else 1], [before or after], "D", color=colour, ms=8, mfc="none", mew=2)
            if before is not None:
                ax.text(-0.05, before, _label(e), ha="right", va="center", fontsize=7)
            if after is not None:
                note = " (joins)" if before is None else ""
                ax.text(1.05, after, _label(e) + note, ha="left", va="center", fontsize=7)
        change = (doc.get("changes") or {}).get(track, {})
        ax.set_title(f"{'main track' if track == 'main' else 'sub-track ' + track} (tau {_tau(change.get('tau'))})",
                     fontsize=9)
        ax.set_xlim(-2.3, 3.1)
        ax.set_ylim(most + 0.6, 0.4)
        ax.set_xticks([0, 1], ["published", "first image\nremoved"], fontsize=8)
        ax.set_yticks(range(1, most + 1))
        ax.grid(axis="y", alpha=0.2)
    axes[0][0].set_ylabel("rank (1 = best; eligible entries)")
    _stamp(fig, doc, entries, f"NTIRE {doc['year']} ESR ranks: published runtime against the first valid image removed")
    return fig


def first_image_chart(doc: Dict[str, Any]) -> Any:
    """Per entry (published main-track order, then the rest): first valid image minus the median [ms], log scale."""
    import matplotlib.pyplot as plt

    def order(e: Dict[str, Any]) -> Any:
        rank = (e.get("protocols") or {}).get("official", {}).get("tracks", {}).get("main", {}).get("rank")
        return (rank is None, rank or 0)

    entries = sorted(doc["entries"], key=order)
    costs = np.array([e["runtimes"]["first_cost_ms"] for e in entries], dtype=float)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(entries) + 2), 5.6))
    x = np.arange(len(entries))
    for i, (e, cost) in enumerate(zip(entries, costs)):
        warm = bool(e["load_forwards"]["count"])
        height = max(abs(cost), _FLOOR_MS)
        ax.bar(i, height, color=SERIES_COLOURS[5] if cost < 0 else SERIES_COLOURS[0], hatch="//" if warm else None,
               edgecolor="k", lw=0.5)
        shift = e["runtimes"]["ave_time_shift_ms"]
        ax.text(i, height * 1.08, f"{'-' if cost < 0 else ''}{abs(cost):.1f}\n({shift:+.2f})", ha="center",
                va="bottom", fontsize=6)
    ax.set_yscale("log")
    shown = np.maximum(np.abs(costs), _FLOOR_MS) if len(costs) else np.array([1.0])
    ax.set_ylim(float(shown.min()) / 3, max(float(shown.max()), 1.0) * 12)
    ax.set_xticks(x, [_label(e) for e in entries], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("|first - median| valid image [ms]")
    ax.set_xlabel(f"entry (published main-track order; orange: first image faster than the median; hatched, "
                  f"{OFFICIAL_WARM_MARK}: forwards while loading)")
    ax.grid(axis="y", alpha=0.3)
    _stamp(fig, doc, entries, "What the first image costs (in brackets: what it adds to the Ave Time [ms])")
    return fig


def log_runs_chart(doc: Dict[str, Any]) -> Any:
    """The log's runs in order: valid, test and Ave Time, and the README's baseline runtime."""
    import matplotlib.pyplot as plt

    runs = doc["log"]["all"]["runs"]
    unit = doc["log"]["all"]["unit"] or "ms"
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(runs) + 3), 4.2))
    x = np.arange(1, len(runs) + 1)
    for colour, name, label in ((SERIES_COLOURS[0], "valid", "valid mean"), (SERIES_COLOURS[1], "test", "test mean"),
                                (SERIES_COLOURS[2], "ave_time", "Ave Time = (valid + test) / 2")):
        values = [np.nan if r[name] is None else r[name] for r in runs]
        ax.plot(x, values, "-o", color=colour, label=label)
    stated = doc["baseline"].get("stated_ms")
    if stated is not None:
        ax.axhline(stated, color="k", ls="--", lw=1, label=f"README's {doc['baseline']['name']}: {stated:.2f} ms")
    ax.set_xticks(x, [f"{i}\n{r['model'][:14]}" for i, r in zip(x, runs)], fontsize=7)
    ax.set_xlabel("run, in the log's order")
    ax.set_ylabel(f"runtime per image [{'ms' if unit == 'milliseconds' else unit}]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle(f"The organisers' log: {len(runs)} runs of test_demo.py")
    fig.text(0.01, 0.005, doc["device"], fontsize=7, ha="left", va="bottom", color="0.3")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return fig


def write_official_figures(doc: Dict[str, Any], figures_dir: PathLike, prefix: str = "06",
                           close: bool = True) -> List[Path]:
    """Save ``<prefix>_official_bump`` and ``_first_image`` (with results) and ``_log_runs`` (with a log), PNG + PDF."""
    import matplotlib.pyplot as plt

    draws = []
    if doc["entries"] and doc.get("tracks"):
        draws.append(("official_bump", official_bump_chart))
    if doc["entries"]:
        draws.append(("official_first_image", first_image_chart))
    if doc.get("log"):
        draws.append(("official_log_runs", log_runs_chart))
    written: List[Path] = []
    for stem, draw in draws:
        fig = draw(doc)
        written += save_figure(fig, figures_dir, f"{prefix}_{stem}", close=False)
        if close:
            plt.close(fig)
    return written
