"""Paired datasets in the NTIRE layout: find the (LR, HR) pairs of a split, or write them from HR images.

The layout of the NTIRE 2024 ESR ``test_demo.py``: ``DIV2K_LSDIR_<split>_HR/NAME.png`` beside
``DIV2K_LSDIR_<split>_LR/NAMEx4.png`` (the organisers' ``LSDIR_DIV2K_`` spelling is accepted too); a
benchmark set in its usual layout (``HR/`` beside ``LR_bicubic/X4/``, as Set5 and Set14) is read as the
valid split.
Written pairs are the mod-cropped HR and its MATLAB-bicubic LR (:mod:`slimrlfn.data.bicubic`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Tuple

import numpy as np

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.core.progress import tqdm
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import IMAGE_EXTENSIONS, list_images, modcrop, read_image, write_image

__all__ = ["ImagePair", "find_pairs", "make_pairs", "write_pairs"]

_LAYOUT_PREFIXES = ("DIV2K_LSDIR", "LSDIR_DIV2K")


@dataclass(frozen=True)
class ImagePair:
    """One evaluation pair in the NTIRE layout: ``name`` is the HR file stem."""

    name: str
    lr_path: Path
    hr_path: Path


def _layouts(data_dir: Path, split: str, scale: int) -> List[Tuple[Path, Path]]:
    """The (HR folder, LR folder) pairs searched for ``split``, in order."""
    layouts = [(data_dir / f"{prefix}_{split}_HR", data_dir / f"{prefix}_{split}_LR") for prefix in _LAYOUT_PREFIXES]
    if split == "valid":  # a benchmark set such as Set5 / Set14: HR/ beside LR_bicubic/X4/
        layouts.append((data_dir / "HR", data_dir / "LR_bicubic" / f"X{scale}"))
    return layouts


def find_pairs(data_dir: PathLike, split: str = "valid", scale: int = 4, flag: str = "--data_dir") -> List[ImagePair]:
    """The (LR, HR) pairs of ``split`` under ``data_dir``, sorted by name.

    Searches ``DIV2K_LSDIR_<split>_HR/*.png``, then ``LSDIR_DIV2K_<split>_HR/*.png`` (the NTIRE layout),
    then for the valid split a benchmark set's ``HR/*.png`` with ``LR_bicubic/X<scale>/`` (Set5, Set14); the
    LR of ``NAME.png`` is ``NAMEx<scale>.png`` in the LR folder. Raises UserError when the folder is
    missing, no pair is found (naming the patterns searched), or an LR lacks its HR or the reverse; ``flag`` is
    the argument that named ``data_dir`` (``--val_dir``, ``--check_data``, ...).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UserError(f"{flag} {data_dir}: no such folder")
    patterns = []
    for hr_dir, lr_dir in _layouts(data_dir, split, scale):
        patterns.append(f"{hr_dir}/*.png")
        hr_files = sorted(hr_dir.glob("*.png")) if hr_dir.is_dir() else []
        lr_files = sorted(lr_dir.glob("*.png")) if lr_dir.is_dir() else []
        if not hr_files and not lr_files:
            continue
        suffix = f"x{scale}"
        hr_by_name = {p.stem: p for p in hr_files}
        lr_by_name = {p.stem[: -len(suffix)]: p for p in lr_files if p.stem.endswith(suffix)}
        stray_lr = [p for p in lr_files if not p.stem.endswith(suffix)]
        if stray_lr:
            raise UserError(f"LR image {stray_lr[0]}: name must end in '{suffix}.png' (NAME{suffix}.png)")
        no_lr = sorted(set(hr_by_name) - set(lr_by_name))
        if no_lr:
            raise UserError(f"HR image {hr_by_name[no_lr[0]]} has no LR {lr_dir / (no_lr[0] + suffix + '.png')}"
                            f"{f' (+{len(no_lr) - 1} more)' if len(no_lr) > 1 else ''}")
        no_hr = sorted(set(lr_by_name) - set(hr_by_name))
        if no_hr:
            raise UserError(f"LR image {lr_by_name[no_hr[0]]} has no HR {hr_dir / (no_hr[0] + '.png')}"
                            f"{f' (+{len(no_hr) - 1} more)' if len(no_hr) > 1 else ''}")
        return [ImagePair(name, lr_by_name[name], hr_by_name[name]) for name in sorted(hr_by_name)]
    raise UserError(f"{flag} {data_dir}: no '{split}' pairs found; searched {' and '.join(patterns)}")


def write_pairs(
    images: Iterable[Tuple[str, np.ndarray]],
    out_dir: PathLike,
    split: str = "valid",
    scale: int = 4,
    progress: bool = True,
) -> List[ImagePair]:
    """Write (name, RGB uint8 HR) items as mod-cropped HR + MATLAB-bicubic LR in the NTIRE layout.

    Every item is checked before the first file is written (UserError naming the image and the size it needs), and
    the files this call wrote are removed again when writing fails part-way.
    """
    if not isinstance(scale, int) or scale < 1:
        raise UserError(f"--scale {scale}: expected a positive integer (4 for x4)")
    out_dir = Path(out_dir)
    hr_dir = out_dir / f"DIV2K_LSDIR_{split}_HR"
    lr_dir = out_dir / f"DIV2K_LSDIR_{split}_LR"
    items = list(images)
    for name, hr in items:
        if min(hr.shape[:2]) < scale:
            raise UserError(f"image {name}: {hr.shape[1]}x{hr.shape[0]} is smaller than the scale {scale}; "
                            f"expected at least {scale}x{scale} pixels")
    pairs: List[ImagePair] = []
    written: List[Path] = []
    try:
        for name, hr in tqdm(items, desc=f"pairs {split}", unit="img", disable=not progress):
            hr = modcrop(hr, scale)
            lr = imresize_matlab(hr, scale=1.0 / scale)
            written.append(write_image(hr_dir / f"{name}.png", hr))
            written.append(write_image(lr_dir / f"{name}x{scale}.png", lr))
            pairs.append(ImagePair(name, written[-1], written[-2]))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return pairs


def make_pairs(hr_dir: PathLike, out_dir: PathLike, split: str = "valid", scale: int = 4,
               progress: bool = True) -> List[ImagePair]:
    """Build the NTIRE layout under ``out_dir`` from every image in ``hr_dir``; every image is read and checked
    (UserError naming the file) before anything is written."""
    if not isinstance(scale, int) or scale < 1:
        raise UserError(f"--scale {scale}: expected a positive integer (4 for x4)")
    hr_dir = Path(hr_dir)
    if not hr_dir.is_dir():
        raise UserError(f"--hr_dir {hr_dir}: no such folder")
    files = list_images(hr_dir)
    if not files:
        raise UserError(f"--hr_dir {hr_dir}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    images = []
    for path in files:
        image = read_image(path)
        if min(image.shape[:2]) < scale:
            raise UserError(f"HR image {path}: {image.shape[1]}x{image.shape[0]} is smaller than the scale {scale}; "
                            f"expected at least {scale}x{scale} pixels")
        images.append((path.stem, image))
    return write_pairs(images, out_dir, split, scale, progress)
