"""Zoomed crops for visual comparison, as in the SR papers' panels: pick the window, cut it, lay the panels out.

:func:`pick_crop_box` picks the window with the most gradient energy of the HR image (deterministic),
:func:`crop` cuts it, :func:`sr_crop_panels` assembles bicubic / model outputs / HR crops from what
:func:`slimrlfn.evaluate.ntire.evaluate` wrote (``results.json`` and ``<result name>/<split>/NAME.png``),
and :func:`sr_crops_figure` draws them in a row.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import modcrop, read_image
from slimrlfn.data.pairs import find_pairs
from slimrlfn.figures.style import save_figure
from slimrlfn.metrics.quality import psnr

__all__ = ["CropBox", "crop", "pick_crop_box", "sr_crop_panels", "sr_crops_figure"]


class CropBox(NamedTuple):
    """A window of an image in pixels: rows ``top:top+height``, columns ``left:left+width``."""

    top: int
    left: int
    height: int
    width: int



def pick_crop_box(img: np.ndarray, size: Union[int, Tuple[int, int]], align: int = 1) -> CropBox:
    """The ``size`` window of ``img`` with the most gradient energy (sum of squared finite differences).

    ``img`` is (H, W) or (H, W, C), any dtype (channels are averaged in float64). ``size`` is an int
    or (height, width), clipped to the image. ``align`` restricts the top-left corner to multiples of
    it (e.g. the SR scale, so the window maps onto whole LR pixels). Ties go to the topmost, then
    leftmost window, so the choice is deterministic.
    """
    if img.ndim not in (2, 3) or min(img.shape[:2]) < 1:
        raise ValueError(f"pick_crop_box expects an (H, W) or (H, W, C) image, got shape {img.shape}")
    if align < 1:
        raise ValueError(f"align must be >= 1, got {align}")
    h, w = img.shape[:2]
    size_h, size_w = (size, size) if isinstance(size, (int, np.integer)) else (int(size[0]), int(size[1]))
    if size_h < 1 or size_w < 1:
        raise ValueError(f"crop size must be positive, got {size!r}")
    size_h, size_w = min(size_h, h), min(size_w, w)
    gray = img.astype(np.float64)
    if gray.ndim == 3:
        gray = gray.mean(axis=2)
    energy = np.zeros((h, w), dtype=np.float64)
    energy[:-1, :] += np.diff(gray, axis=0) ** 2
    energy[:, :-1] += np.diff(gray, axis=1) ** 2
    integral = np.zeros((h + 1, w + 1), dtype=np.float64)
    integral[1:, 1:] = energy.cumsum(axis=0).cumsum(axis=1)
    sums = (integral[size_h:, size_w:] - integral[:-size_h, size_w:]
            - integral[size_h:, :-size_w] + integral[:-size_h, :-size_w])
    sums = sums[::align, ::align]
    row, col = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return CropBox(int(row) * align, int(col) * align, size_h, size_w)


def crop(img: np.ndarray, box: CropBox) -> np.ndarray:
    """``img[top:top+height, left:left+width]`` (a copy); ValueError when the box leaves the image."""
    top, left, height, width = box
    h, w = img.shape[:2]
    if top < 0 or left < 0 or height < 1 or width < 1 or top + height > h or left + width > w:
        raise ValueError(f"crop box {tuple(box)} (top, left, height, width) does not fit an image of {h}x{w}")
    return img[top:top + height, left:left + width].copy()


def sr_crop_panels(
    eval_dir: PathLike,
    data_dir: PathLike,
    image_name: str,
    result_names: Optional[Sequence[str]] = None,
    size: int = 128,
    split: str = "valid",
    scale: int = 4,
) -> Tuple[List[Tuple[str, np.ndarray]], CropBox, np.ndarray]:
    """Crops of one image for :func:`sr_crops_figure`: bicubic, each evaluated model, HR.

    Reads ``eval_dir/results.json`` and ``eval_dir/<result name>/<split>/<image_name>.png`` (as
    :func:`slimrlfn.evaluate.evaluate` writes them) and the LR / HR pair of ``data_dir``. The
    bicubic panel is the MATLAB-bicubic x``scale`` upsampling of the LR. Labels carry the model's
    label and the PSNR (RGB, border = ``scale``) on the whole image. ``result_names`` picks and
    orders the models (default: all entries of results.json that have the image).
    Returns ``(panels, box, hr)`` with the box chosen by :func:`pick_crop_box` on the HR.
    """
    eval_dir = Path(eval_dir)
    results_path = eval_dir / "results.json"
    if not results_path.is_file():
        raise UserError(f"results file {results_path}: no such file; run the evaluation first")
    results = json.loads(results_path.read_text())
    pairs = {pair.name: pair for pair in find_pairs(data_dir, split, scale)}
    if image_name not in pairs:
        raise UserError(f"image {image_name!r}: not in the {split} split of {data_dir} "
                        f"(has {', '.join(sorted(pairs))})")
    hr = modcrop(read_image(pairs[image_name].hr_path), scale)
    bicubic = imresize_matlab(read_image(pairs[image_name].lr_path), scale=scale)
    box = pick_crop_box(hr, size, align=scale)
    panels = [(f"Bicubic\n{psnr(bicubic, hr, border=scale):.2f} dB", crop(bicubic, box))]
    names = list(result_names) if result_names is not None else [
        name for name, entry in results.items() if image_name in entry.get(f"{split}_names", [])]
    for name in names:
        if name not in results:
            raise UserError(f"{results_path}: no entry {name!r} (has {', '.join(results)})")
        entry = results[name]
        sr = read_image(eval_dir / entry.get("images", name) / split / f"{image_name}.png")
        value = entry[f"{split}_psnr"][entry[f"{split}_names"].index(image_name)]
        panels.append((f"{entry.get('model', name)}\n{value:.2f} dB", crop(sr, box)))
    panels.append(("HR\n(ground truth)", crop(hr, box)))
    return panels, box, hr


def sr_crops_figure(
    panels: Sequence[Tuple[str, np.ndarray]],
    out_dir: PathLike,
    stem: str = "sr_crops",
    title: Optional[str] = None,
    context: Optional[Tuple[np.ndarray, CropBox]] = None,
) -> List[Path]:
    """A row of image crops (RGB uint8, (H, W, 3)), each titled with its label.

    ``context=(full image, box)`` adds a first panel with the whole image and the box outlined.
    Crops are shown pixel for pixel (nearest-neighbour), so all should have the same size.
    """
    if not panels:
        raise ValueError("sr_crops_figure needs at least one panel")
    count = len(panels) + (context is not None)
    fig = Figure(figsize=(2.3 * count, 2.3 + (0.35 if title else 0) + 0.4), layout="constrained")
    axes = fig.subplots(1, count, squeeze=False)[0]
    if context is not None:
        full, box = context
        axes[0].imshow(full, interpolation="antialiased")
        axes[0].add_patch(Rectangle((box.left - 0.5, box.top - 0.5), box.width, box.height,
                                    fill=False, edgecolor="#E69F00", linewidth=1.5))
        axes[0].set_title(f"crop at x={box.left}, y={box.top}\n{box.width}x{box.height} px", fontsize=9)
        axes = axes[1:]
    for ax, (label, img) in zip(axes, panels):
        ax.imshow(img, interpolation="nearest")
        ax.set_title(label, fontsize=9)
    for ax in fig.axes:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, out_dir, stem)
