"""Figures of image quality: PSNR per image and its mean, per model."""
from __future__ import annotations

from pathlib import Path
from typing import List, Mapping, Optional

import numpy as np
from matplotlib.figure import Figure

from slimrlfn.core.files import PathLike
from slimrlfn.figures.style import SERIES_COLOURS, save_figure

__all__ = ["psnr_figure"]


def psnr_figure(
    psnr_by_model: Mapping[str, Mapping[str, float]],
    out_dir: PathLike,
    stem: str = "psnr_per_image",
    title: Optional[str] = None,
    ylabel: str = "PSNR (RGB) [dB]",
) -> List[Path]:
    """PSNR per image (points joined per model) and the mean over images (last column, bold).

    ``psnr_by_model`` maps a model label to {image name: PSNR in dB}; images are ordered as in the
    first model's mapping.
    """
    if not psnr_by_model:
        raise ValueError("psnr_figure needs at least one model")
    images = list(next(iter(psnr_by_model.values())))
    fig = Figure(figsize=(max(5.0, 1.0 * len(images) + 3.0), 3.8), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(images))
    for k, (label, values) in enumerate(psnr_by_model.items()):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        ys = [values.get(name, np.nan) for name in images]
        mean = float(np.nanmean(ys))
        ax.plot(x, ys, marker="o", color=colour, linewidth=1, label=f"{label} (mean {mean:.2f} dB)")
        offset = 0.12 * (k - (len(psnr_by_model) - 1) / 2)
        ax.plot([len(images) + offset], [mean], marker="D", markersize=7, color=colour, linestyle="none")
    ax.axvline(len(images) - 0.5, color="black", linewidth=0.5, alpha=0.5)
    ax.set_xticks(np.arange(len(images) + 1), images + ["mean"], rotation=20, ha="right")
    ax.set_xlabel("image")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title, fontsize=10)
    return save_figure(fig, out_dir, stem)
