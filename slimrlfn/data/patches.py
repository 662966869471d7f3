"""Training data: random HR patches with their MATLAB-bicubic LR, flips and 90-degree rotations.

How LR patches are made (BasicSR's ``PairedImageDataset`` on DIV2K's ``LR_bicubic`` does the same):
every HR image is mod-cropped to the scale and shrunk *once, whole*, with
:func:`slimrlfn.data.bicubic.imresize_matlab` (as the NTIRE LR images are made); a training pair is an LR
patch cut from that LR image and the HR patch at the aligned position (``scale`` x the offsets).
Shrinking each HR patch on its own would differ at the patch border (MATLAB's bicubic reflects the
image at its border, so the outer 2 LR pixels of every patch would see mirrored content that
never occurs inside a test image); the whole-image LR has that effect only at real image borders,
as the test data does. The LR images are kept in memory, or with ``cache_dir`` written there once
as PNG (named by a digest of the HR file's path, size and mtime) and read per patch.

Flips and 90-degree rotations (the 8 symmetries of the square) are applied to LR and HR alike.
MATLAB's bicubic commutes with flips; with a rotation, uint8 rounding after the height pass
instead of the width pass can differ by 1 grey level: accepted, as everyone does.

Determinism and sharding: patch number ``i`` (image, offsets, symmetry) is a pure function of
``(seed, i)``, so what a run sees depends neither on DataLoader workers nor on a resume.
:class:`ShardSampler` gives rank ``r`` of ``W`` at iteration ``t`` the patches
``(t * W + r) * B .. (t * W + r) * B + B - 1``: every rank its own shard, no patch drawn twice, and
the W shards of an iteration together are exactly the batch one process with batch ``W * B`` draws.
"""
from __future__ import annotations

import hashlib
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from slimrlfn.arch.rlfn import MIN_INPUT_SIZE
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.core.progress import tqdm
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import IMAGE_EXTENSIONS, list_images, modcrop, read_image, write_image

__all__ = ["PatchDataset", "ShardSampler", "apply_symmetry", "scan_hr_dirs"]


def scan_hr_dirs(hr_dirs: Sequence[PathLike]) -> List[Path]:
    """The image files of every folder in ``hr_dirs``; UserError for a missing or empty folder."""
    if not hr_dirs:
        raise UserError("--hr_dir: no training folder given; expected one or more folders of HR images")
    files: List[Path] = []
    for folder in map(Path, hr_dirs):
        if not folder.is_dir():
            raise UserError(f"--hr_dir {folder}: no such folder")
        found = list_images(folder)
        if not found:
            raise UserError(f"--hr_dir {folder}: no images ({', '.join(IMAGE_EXTENSIONS)})")
        files += found
    return files


def apply_symmetry(img: np.ndarray, code: int) -> np.ndarray:
    """One of the 8 symmetries of the square (bit 0: flip left-right, 1: up-down, 2: transpose)."""
    if code & 1:
        img = img[:, ::-1]
    if code & 2:
        img = img[::-1]
    if code & 4:
        img = img.transpose(1, 0, 2)
    return img


def _to_tensor(img: np.ndarray) -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> float32 (3, H, W) in [0, 255]."""
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float()


@dataclass
class _Source:
    path: Path
    lr_shape: Tuple[int, int]
    hr: Optional[np.ndarray] = None
    lr: Optional[np.ndarray] = None
    lr_path: Optional[Path] = None


def _cache_name(path: Path, scale: int) -> str:
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|x{scale}"
    return f"{path.stem}-{hashlib.sha1(key.encode()).hexdigest()[:12]}x{scale}.png"


class PatchDataset(Dataset):
    """Item ``i`` -> ``(lr, hr)``: float32 (3, p, p) and (3, scale*p, scale*p) in [0, 255].

    Images whose mod-cropped HR is smaller than ``scale * lr_patch`` on a side are skipped with
    one warning naming them; UserError when none is left. ``len()`` is unbounded in practice:
    the sampler decides how many patches are drawn.
    """

    def __init__(
        self,
        hr_dirs: Sequence[PathLike],
        scale: int = 4,
        lr_patch: int = 64,
        seed: int = 0,
        augment: bool = True,
        cache_dir: Optional[PathLike] = None,
        progress: bool = False,
    ) -> None:
        if lr_patch < MIN_INPUT_SIZE:
            raise UserError(f"--lr_patch {lr_patch}: expected at least {MIN_INPUT_SIZE} (the ESA branch needs it)")
        self.scale, self.lr_patch, self.seed, self.augment = scale, lr_patch, seed, augment
        files = scan_hr_dirs(hr_dirs)
        hr_patch = scale * lr_patch
        self.sources: List[_Source] = []
        small: List[str] = []
        cache = Path(cache_dir) if cache_dir is not None else None
        for path in tqdm(files, desc="LR images", unit="img", disable=not progress):
            cached = cache / _cache_name(path, scale) if cache is not None else None
            hr = modcrop(read_image(path), scale)
            if min(hr.shape[:2]) < hr_patch:
                small.append(f"{path.name} ({hr.shape[1]}x{hr.shape[0]})")
                continue
            lr_shape = (hr.shape[0] // scale, hr.shape[1] // scale)
            if cached is None:
                self.sources.append(_Source(path, lr_shape, hr, imresize_matlab(hr, scale=1.0 / scale)))
                continue
            if not cached.is_file():
                write_image(cached, imresize_matlab(hr, scale=1.0 / scale))
            self.sources.append(_Source(path, lr_shape, lr_path=cached))
        if small:
            message = (f"skipped {len(small)} of {len(files)} training images smaller than the "
                       f"{hr_patch}x{hr_patch} HR patch (lr_patch {lr_patch} x scale {scale}): {', '.join(small)}")
            if not self.sources:
                raise UserError(f"--hr_dir {', '.join(map(str, hr_dirs))}: no image is large enough; {message}")
            warnings.warn(message, UserWarning, stacklevel=2)
        self.skipped = small

    def __len__(self) -> int:
        return sys.maxsize

    def _images(self, source: _Source) -> Tuple[np.ndarray, np.ndarray]:
        if source.hr is not None:
            return source.lr, source.hr
        return read_image(source.lr_path), modcrop(read_image(source.path), self.scale)

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, int(index)])
        source = self.sources[int(rng.integers(len(self.sources)))]
        p, s = self.lr_patch, self.scale
        top = int(rng.integers(source.lr_shape[0] - p + 1))
        left = int(rng.integers(source.lr_shape[1] - p + 1))
        code = int(rng.integers(8)) if self.augment else 0
        lr_img, hr_img = self._images(source)
        lr = lr_img[top:top + p, left:left + p]
        hr = hr_img[top * s:(top + p) * s, left * s:(left + p) * s]
        return _to_tensor(apply_symmetry(lr, code)), _to_tensor(apply_symmetry(hr, code))


class ShardSampler(Sampler):
    """Patch indices of rank ``rank`` of ``world_size`` for iterations ``start .. end - 1``."""

    def __init__(self, batch_size: int, start: int, end: int, rank: int = 0, world_size: int = 1) -> None:
        self.batch_size, self.start, self.end = batch_size, start, end
        self.rank, self.world_size = rank, world_size

    def __iter__(self) -> Iterator[int]:
        for iteration in range(self.start, self.end):
            base = (iteration * self.world_size + self.rank) * self.batch_size
            yield from range(base, base + self.batch_size)

    def __len__(self) -> int:
        return max(0, self.end - self.start) * self.batch_size
