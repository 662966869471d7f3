"""What the parent of a timing study checks before it starts a worker: every model loads and gives a finite,
``scale``-times larger output on one small real input, and every image of the data is one the models take.

A worker that fails only reports a "failed" record; checked here, a truncated, foreign or malicious checkpoint, a
model whose output is the wrong shape or not finite, and an image too small for a model are each one line
(:class:`~slimrlfn.core.errors.UserError`) before any process starts or any file is written.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import torch

from slimrlfn.arch.spec import ModelSpec
from slimrlfn.core.errors import UserError, one_line
from slimrlfn.data.images import read_image
from slimrlfn.data.pairs import ImagePair, find_pairs
from slimrlfn.data.sample import example_images
from slimrlfn.arch.contract import uint8_to_tensor
from slimrlfn.deploy.forward import forward_image

__all__ = ["PROBE_SIDE", "check_data", "check_model"]

#: The side of the probe input (LR pixels): a multiple of 8 and 16, so that window-based entries take it as is.
PROBE_SIDE = 48


def check_data(specs: Sequence[ModelSpec], data_dir: Optional[str], split: str) -> List[ImagePair]:
    """The pairs of ``data_dir`` (none without data); UserError naming the first LR image a model cannot take."""
    if not data_dir:
        return []
    pairs = find_pairs(data_dir, split)
    smallest = max(spec.min_size for spec in specs)
    for pair in pairs:
        height, width = read_image(pair.lr_path).shape[:2]
        if min(height, width) < smallest:
            spec = max(specs, key=lambda s: s.min_size)
            raise UserError(f"LR image {pair.lr_path}: {width}x{height} is smaller than the {spec.min_size}x"
                            f"{spec.min_size} that {spec.label} takes; expected images at least that large")
    return pairs


def check_model(spec: ModelSpec, pairs: Sequence[ImagePair], what: str = "--models") -> None:
    """One forward of ``spec`` on the CPU, on a ``PROBE_SIDE`` crop of the first LR image (the workbook's example
    image without data); UserError when it fails, has the wrong shape or holds NaN or inf."""
    image = read_image(pairs[0].lr_path) if pairs else example_images(limit=1)[0]["lr"]
    side = max(PROBE_SIDE, spec.min_size)
    crop = image[:side, :side]
    lr = uint8_to_tensor(crop, torch.device("cpu"), spec.data_range)
    model = spec.model.to("cpu").eval()
    try:
        with torch.no_grad():
            sr = forward_image(model, lr, spec.tile if spec.tile and spec.tile < min(crop.shape[:2]) else None,
                               scale=spec.scale)
    except Exception as exc:  # noqa: BLE001 (any error of a third-party forward is the user's model's)
        raise UserError(f"{what} {spec.ref.text()}: {spec.label} fails on a {crop.shape[1]}x{crop.shape[0]} input "
                        f"({one_line(exc)})") from None
    expected = (1, 3, crop.shape[0] * spec.scale, crop.shape[1] * spec.scale)
    if not isinstance(sr, torch.Tensor) or tuple(sr.shape) != expected:
        shape = tuple(sr.shape) if isinstance(sr, torch.Tensor) else type(sr).__name__
        raise UserError(f"{what} {spec.ref.text()}: {spec.label} gives {shape} for a {tuple(lr.shape)} input; "
                        f"expected {expected} (x{spec.scale})")
    if not bool(torch.isfinite(sr).all()):
        raise UserError(f"{what} {spec.ref.text()}: {spec.label}'s output holds NaN or inf values (are its weights "
                        f"finite?); expected finite values")
