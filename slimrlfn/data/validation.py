"""Validation images in memory: the NTIRE-layout pairs of a split, read once, checked against the scale.

Used wherever a model is validated between optimisation steps (training, pruning's fine-tuning):
:func:`load_validation` reads every pair of :func:`slimrlfn.data.pairs.find_pairs`, HR mod-cropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from slimrlfn.arch.rlfn import MIN_INPUT_SIZE
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.data.images import image_size, modcrop, read_image
from slimrlfn.data.pairs import ImagePair, find_pairs

__all__ = ["ValidationImage", "check_pair_sizes", "check_pairs", "load_validation"]


@dataclass
class ValidationImage:
    """One validation pair in memory: RGB uint8 LR and mod-cropped HR."""

    name: str
    lr: np.ndarray
    hr: np.ndarray


def load_validation(data_dir: PathLike, split: str = "valid", scale: int = 4,
                    max_images: Optional[int] = None, flag: str = "--val_dir",
                    min_size: int = MIN_INPUT_SIZE) -> List[ValidationImage]:
    """The NTIRE-layout pairs of ``split`` under ``data_dir`` (:func:`slimrlfn.data.pairs.find_pairs`), read once;
    ``flag`` is the argument that named ``data_dir``, for the error lines; every LR image is at least ``min_size``
    on each side (the model's contract; RLFN's ESA branch needs 15)."""
    pairs = find_pairs(data_dir, split, scale, flag)
    if max_images is not None:
        pairs = pairs[:max_images]
    images = []
    for pair in pairs:
        lr, hr = read_image(pair.lr_path), modcrop(read_image(pair.hr_path), scale)
        if min(lr.shape[:2]) < min_size:
            raise UserError(f"LR image {pair.lr_path}: {lr.shape[1]}x{lr.shape[0]} is smaller than the "
                            f"{min_size}x{min_size} the model takes")
        if hr.shape[:2] != (lr.shape[0] * scale, lr.shape[1] * scale):
            raise UserError(f"HR image {pair.hr_path}: {hr.shape[1]}x{hr.shape[0]} after modcrop, expected "
                            f"{lr.shape[1] * scale}x{lr.shape[0] * scale} ({scale}x its LR)")
        images.append(ValidationImage(pair.name, lr, hr))
    return images


def check_pairs(pairs: Sequence[ImagePair], scale: int, flag: str) -> None:
    """Every pair read once (nothing kept): each image decodes and each HR, mod-cropped, is ``scale`` times its LR;
    one UserError naming ``flag`` and the file otherwise. For commands that run several models on the same data,
    so that unfit data is refused before the first model is timed, not once per model after it."""
    for pair in pairs:
        lr, hr = read_image(pair.lr_path), modcrop(read_image(pair.hr_path), scale)
        if hr.shape[:2] != (lr.shape[0] * scale, lr.shape[1] * scale):
            raise UserError(f"{flag}: HR image {pair.hr_path}: {hr.shape[1]}x{hr.shape[0]} after modcrop, expected "
                            f"{lr.shape[1] * scale}x{lr.shape[0] * scale} ({scale}x its LR {pair.lr_path.name})")


def check_pair_sizes(pairs: Sequence[ImagePair], scale: int, flag: str, min_size: int = 1) -> None:
    """Every LR is at least ``min_size`` on each side (the model's contract) and every HR, mod-cropped, is ``scale``
    times its LR, from the sizes alone (a PNG's header; other files are decoded): a mismatch or an image that is not
    one is refused before a model runs, in one line naming the file (and ``flag`` for a mismatch)."""
    for pair in pairs:
        (lr_h, lr_w), (hr_h, hr_w) = image_size(pair.lr_path), image_size(pair.hr_path)
        if min(lr_h, lr_w) < min_size:
            raise UserError(f"LR image {pair.lr_path}: {lr_w}x{lr_h} is smaller than the {min_size}x{min_size} the "
                            f"model takes")
        if (hr_h - hr_h % scale, hr_w - hr_w % scale) != (lr_h * scale, lr_w * scale):
            raise UserError(f"{flag}: HR image {pair.hr_path}: {hr_w - hr_w % scale}x{hr_h - hr_h % scale} after "
                            f"modcrop, expected {lr_w * scale}x{lr_h * scale} ({scale}x its LR {pair.lr_path.name})")
