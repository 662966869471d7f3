"""The workbook's figure style and the one way a figure is saved: PNG + PDF with the same stem, atomically.

:func:`save_figure` writes ``out_dir/stem.png`` (150 dpi) and ``out_dir/stem.pdf`` through temporary
files renamed into place, so a reader never sees a half-written figure; the PDF carries no creation
date (the same figure gives the same bytes). Colours are colour-blind safe Okabe-Ito hues.
Every figure module of :mod:`slimrlfn.figures` draws, from results (dicts, JSON), never from models.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, List, Optional, Tuple

from slimrlfn.core.files import PathLike, give_default_mode

__all__ = ["SERIES_COLOURS", "place_labels", "save_figure", "set_stamp", "split_stem"]

#: Line and bar colours of successive series (colour-blind safe Okabe-Ito hues).
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


#: The note :func:`save_figure` writes under every figure while set (:func:`set_stamp`): "quick mode" in a quick run.
_STAMP: Optional[str] = None


def set_stamp(text: Optional[str]) -> None:
    """From now on, every figure :func:`save_figure` saves carries ``text`` under its lower right corner (None: no
    note). A quick-mode run sets it so that no figure of two or three points reads as a result."""
    global _STAMP
    _STAMP = text


def save_figure(fig: Any, out_dir: PathLike, stem: str, close: bool = True) -> List[Path]:
    """Save ``fig`` as ``out_dir/stem.png`` (150 dpi) and ``out_dir/stem.pdf``, atomically; returns both paths.

    Creates ``out_dir``. ``close``: if ``fig`` is managed by pyplot, close it afterwards (a notebook
    that wants to show a pyplot figure inline passes False). The note of :func:`set_stamp`, when set, is drawn
    under the figure (once, however often the figure is saved).
    """
    if _STAMP and getattr(fig, "_slimrlfn_stamp", None) != _STAMP:
        fig.text(0.995, -0.005, _STAMP, ha="right", va="top", fontsize=8, color="#D55E00", style="italic")
        fig._slimrlfn_stamp = _STAMP
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in ("png", "pdf"):
        target = out_dir / f"{stem}.{fmt}"
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=out_dir)
        os.close(fd)
        try:
            metadata = {"CreationDate": None} if fmt == "pdf" else None
            fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight", metadata=metadata)
            give_default_mode(tmp)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        paths.append(target)
    if close:
        _close(fig)
    return paths


def split_stem(path: PathLike) -> Tuple[Path, str]:
    """``figures/04_cold_vs_warm`` (or ``...png`` / ``...pdf``) -> (``figures``, ``04_cold_vs_warm``)."""
    path = Path(path)
    if path.suffix in (".png", ".pdf"):
        path = path.with_suffix("")
    return path.parent, path.name


def _close(fig: Any) -> None:
    """Close ``fig`` in pyplot's registry, if pyplot is loaded (a plain ``Figure`` needs nothing)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)


#: Offsets (points) :func:`place_labels` tries around a point, nearest first.
_LABEL_OFFSETS = [(dx * r, dy * r) for r in (1, 2, 3, 4.5) for dx, dy in
                  ((5, 4), (5, -10), (-5, 4), (-5, -10), (0, 8), (0, -14), (9, -3), (-9, -3))]


def place_labels(ax: Any, xs: Any, ys: Any, texts: Any, fontsize: float = 7.0, **options: Any) -> List[Any]:
    """Label points ``(xs[i], ys[i])`` with ``texts[i]`` so that no two labels overlap and no label covers another
    point: each label takes the first offset of :data:`_LABEL_OFFSETS` (near to far, around the point) whose box
    is clear and inside the figure, measured in display units with the figure's renderer (greedy, in the order given: put the
    important points first). A label with no clear place gets a thin leader line to the farthest offset tried.
    Returns the text artists. The axes' limits should be final before the call."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    to_display = ax.transData.transform
    points = [to_display((x, y)) for x, y in zip(xs, ys)]
    taken: List[Tuple[float, float, float, float]] = [(px - 3, py - 3, px + 3, py + 3) for px, py in points]
    artists = []

    frame = fig.bbox

    def clear(box: Tuple[float, float, float, float]) -> bool:
        inside = frame.x0 <= box[0] and box[2] <= frame.x1 and frame.y0 <= box[1] and box[3] <= frame.y1
        return inside and all(box[2] <= t[0] or box[0] >= t[2] or box[3] <= t[1] or box[1] >= t[3] for t in taken)

    for (px, py), x, y, text in zip(points, xs, ys, texts):
        chosen, box = None, None
        for dx, dy in _LABEL_OFFSETS:
            label = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                                ha="left" if dx >= 0 else "right", va="bottom", **options)
            extent = label.get_window_extent(renderer)
            box = (extent.x0 - 1, extent.y0 - 1, extent.x1 + 1, extent.y1 + 1)
            if clear(box):
                chosen = label
                break
            label.remove()
        if chosen is None:  # nowhere clear: the farthest place, tied to its point
            dx, dy = _LABEL_OFFSETS[-1]
            chosen = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                                 ha="left" if dx >= 0 else "right", va="bottom",
                                 arrowprops=dict(arrowstyle="-", lw=0.5, color="0.5"), **options)
            extent = chosen.get_window_extent(renderer)
            box = (extent.x0, extent.y0, extent.x1, extent.y1)
        taken.append(box)
        artists.append(chosen)
    return artists
