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
from typing import Any, List, Tuple

from slimrlfn.core.files import PathLike, give_default_mode

__all__ = ["SERIES_COLOURS", "save_figure", "split_stem"]

#: Line and bar colours of successive series (colour-blind safe Okabe-Ito hues).
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def save_figure(fig: Any, out_dir: PathLike, stem: str, close: bool = True) -> List[Path]:
    """Save ``fig`` as ``out_dir/stem.png`` (150 dpi) and ``out_dir/stem.pdf``, atomically; returns both paths.

    Creates ``out_dir``. ``close``: if ``fig`` is managed by pyplot, close it afterwards (a notebook
    that wants to show a pyplot figure inline passes False).
    """
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
