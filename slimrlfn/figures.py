"""The workbook's figures: one function per figure, from results on disk or in dicts, never from models.

Every figure function takes the data it plots (configs, count rows as :func:`slimrlfn.profile.profile_model`
returns them, images, PSNRs), an ``out_dir`` and a ``stem``, draws on a fresh
:class:`matplotlib.figure.Figure` (no pyplot state, so it works headless and in threads) and saves it
with :func:`save_figure` as ``out_dir/stem.png`` (150 dpi) and ``out_dir/stem.pdf``; it returns those
two paths. Files are written to a temporary name and renamed into place, so a reader never sees a
half-written figure. Axis labels carry units; a figure that shows a timing names the device.

Crops for visual comparison (as in the SR papers' zoomed panels): :func:`pick_crop_box` picks the
window with the most gradient energy of the HR image (deterministic), :func:`crop` cuts it, and
:func:`sr_crop_panels` assembles bicubic / model outputs / HR crops from what
:func:`slimrlfn.evaluate.evaluate` wrote (``results.json`` and ``<result name>/<split>/NAME.png``).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from .architecture import PRUNABLE_KINDS, layer_widths

__all__ = [
    "CropBox",
    "channel_widths_figure",
    "counts_figure",
    "crop",
    "pick_crop_box",
    "psnr_figure",
    "save_figure",
    "sr_crop_panels",
    "sr_crops_figure",
]

PathLike = Union[str, Path]

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
_SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


class CropBox(NamedTuple):
    """A window of an image in pixels: rows ``top:top+height``, columns ``left:left+width``."""

    top: int
    left: int
    height: int
    width: int


# --------------------------------------------------------------------------- saving


def save_figure(fig: Figure, out_dir: PathLike, stem: str) -> List[Path]:
    """Save ``fig`` as ``out_dir/stem.png`` (150 dpi) and ``out_dir/stem.pdf``, atomically; returns both paths.

    Creates ``out_dir``. If ``fig`` is managed by pyplot it is closed afterwards.
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
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        paths.append(target)
    _close(fig)
    return paths


def _close(fig: Figure) -> None:
    """Close ``fig`` in pyplot's registry, if pyplot is loaded (a plain ``Figure`` needs nothing)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)


# --------------------------------------------------------------------------- architecture and counts


def channel_widths_figure(
    configs: Mapping[str, Dict[str, Any]],
    out_dir: PathLike,
    stem: str = "channel_widths",
    title: Optional[str] = "Output channels per conv layer (forward order)",
) -> List[Path]:
    """Per-layer output widths of each model config, one panel per model stacked on a shared scale.

    ``configs`` maps a label (e.g. 'SlimRLFN-prune') to a model config
    (:func:`slimrlfn.models.config_of` or ``ZOO[name].config``). Pruned widths are written on the bars.
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

    ``rows`` are :func:`slimrlfn.profile.profile_model` dicts with a ``model`` label added. A compute
    series is drawn only when every row has its key (``flops`` is required).
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
    series = [(key, name) for key, name in _COMPUTE_SERIES if all(key in row for row in rows)]
    fig = Figure(figsize=(3.2 + 1.3 * len(rows) * (1 + len(series) / 2), 3.8), layout="constrained")
    ax_params, ax_compute, ax_acts = fig.subplots(1, 3, width_ratios=[1, 1 + len(series) / 2, 1])
    x = np.arange(len(rows))
    colours = [_SERIES_COLOURS[i % len(_SERIES_COLOURS)] for i in range(len(rows))]
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


# --------------------------------------------------------------------------- image crops


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
    from .data import find_pairs, imresize_matlab, modcrop, read_image
    from .errors import UserError
    from .metrics import psnr

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
        sr = read_image(eval_dir / name / split / f"{image_name}.png")
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


# --------------------------------------------------------------------------- quality


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
        colour = _SERIES_COLOURS[k % len(_SERIES_COLOURS)]
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
