"""Images as RGB uint8 arrays: read, write (atomically), mod-crop, list a folder.

- Images are ``numpy.ndarray`` of shape (H, W, 3), dtype uint8, RGB order, values in [0, 255].
  Grayscale is replicated to three channels, an alpha channel is dropped, 16-bit images are scaled
  to 8 bits with ``round(v / 257)`` (as NTIRE's ``utils_image.imread_uint(n_channels=3)`` reads them).
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import cv2
import numpy as np

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_bytes

__all__ = ["IMAGE_EXTENSIONS", "image_size", "list_images", "modcrop", "read_image", "write_image"]

#: Suffixes read as images (any case).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def read_image(path: PathLike) -> np.ndarray:
    """Read an image file as RGB uint8, shape (H, W, 3).

    Grayscale -> replicated to 3 channels; gray+alpha and RGBA -> alpha dropped; uint16 -> uint8 by
    ``round(v / 257)``. Raises UserError for a missing, corrupt or unsupported file.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"image {path}: no such file")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise UserError(f"image {path}: cannot be decoded (corrupt or not an image)")
    if img.dtype == np.uint16:
        img = np.floor(img.astype(np.float64) / 257.0 + 0.5).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise UserError(f"image {path}: unsupported sample type {img.dtype}; expected 8- or 16-bit integers")
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    channels = img.shape[2]
    if channels in (1, 2):  # gray, gray + alpha
        return np.ascontiguousarray(np.repeat(img[:, :, :1], 3, axis=2))
    if channels in (3, 4):  # BGR, BGRA
        return np.ascontiguousarray(img[:, :, 2::-1])
    raise UserError(f"image {path}: {channels} channels; expected 1 to 4")


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_size(path: PathLike) -> tuple:
    """``(height, width)`` in pixels of an image file; a PNG's are read from its header (24 bytes), any other file is
    decoded. Raises UserError for a missing or undecodable file."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(24)
    except OSError:
        raise UserError(f"image {path}: no such file") from None
    if head[:8] == _PNG_SIGNATURE and head[12:16] == b"IHDR":
        return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")
    return tuple(read_image(path).shape[:2])


def write_image(path: PathLike, img: np.ndarray) -> Path:
    """Write an RGB uint8 (H, W, 3) or gray (H, W) image atomically; the format follows the suffix."""
    path = Path(path)
    if img.dtype != np.uint8:
        raise ValueError(f"write_image expects uint8, got {img.dtype}")
    bgr = img[:, :, ::-1] if img.ndim == 3 else img
    ok, encoded = cv2.imencode(path.suffix or ".png", np.ascontiguousarray(bgr))
    if not ok:
        raise UserError(f"image {path}: cannot encode as {path.suffix!r}")
    return atomic_write_bytes(path, encoded.tobytes())


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop (H, W[, C]) so that H and W are multiples of ``scale`` (bottom and right edges go)."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale].copy()


def list_images(folder: PathLike) -> List[Path]:
    """Image files directly inside ``folder`` (by suffix, sorted by name)."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
