"""Images and paired datasets: RGB uint8 IO, modcrop, MATLAB-compatible bicubic, NTIRE layout.

- Images are ``numpy.ndarray`` of shape (H, W, 3), dtype uint8, RGB order, values in [0, 255].
  Grayscale is replicated to three channels, an alpha channel is dropped, 16-bit images are scaled
  to 8 bits with ``round(v / 257)``.
- :func:`imresize_matlab` follows MATLAB's ``imresize(img, scale, 'bicubic')`` (Keys cubic,
  a = -0.5, antialiasing when shrinking, symmetric border); for uint8 input it rounds to uint8
  after each 1-D pass, as MATLAB does, height first.
- The NTIRE layout (as in the NTIRE 2024 ESR ``test_demo.py``): ``DIV2K_LSDIR_<split>_HR/NAME.png``
  beside ``DIV2K_LSDIR_<split>_LR/NAMEx4.png``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from .errors import UserError
from .files import atomic_write_bytes

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImagePair",
    "find_pairs",
    "imresize_matlab",
    "list_images",
    "make_pairs",
    "make_sample",
    "modcrop",
    "read_image",
    "write_image",
    "write_pairs",
]

PathLike = Union[str, Path]
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_LAYOUT_PREFIXES = ("DIV2K_LSDIR", "LSDIR_DIV2K")


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


def _cubic(x: np.ndarray) -> np.ndarray:
    absx = np.abs(x)
    absx2, absx3 = absx ** 2, absx ** 3
    return ((1.5 * absx3 - 2.5 * absx2 + 1.0) * (absx <= 1)
            + (-0.5 * absx3 + 2.5 * absx2 - 4.0 * absx + 2.0) * ((absx > 1) & (absx <= 2)))


def _resize_matrix(in_length: int, out_length: int, scale: float, antialiasing: bool = True) -> np.ndarray:
    """(out_length, in_length) float64 matrix of MATLAB's bicubic weights, symmetric border folded in."""
    kernel_width = 4.0
    shrink = scale < 1 and antialiasing
    if shrink:
        kernel_width /= scale
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = int(np.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # 1-based
    distance = u[:, None] - indices
    weights = scale * _cubic(distance * scale) if shrink else _cubic(distance)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    source = mirror[np.mod(indices.astype(np.int64) - 1, mirror.size)]
    matrix = np.zeros((out_length, in_length), dtype=np.float64)
    np.add.at(matrix, (np.repeat(np.arange(out_length), taps), source.ravel()), weights.ravel())
    return matrix


def _round_uint8(x: np.ndarray) -> np.ndarray:
    """MATLAB's double -> uint8: round half away from zero, then saturate."""
    return np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), 0, 255).astype(np.uint8)


def imresize_matlab(
    img: np.ndarray,
    scale: Optional[float] = None,
    output_shape: Optional[Tuple[int, int]] = None,
    antialiasing: bool = True,
) -> np.ndarray:
    """MATLAB-compatible ``imresize(img, scale, 'bicubic')`` of (H, W) or (H, W, C).

    uint8 in -> uint8 out, rounded after each 1-D pass (height first); float in -> float64 out,
    no rounding. Give ``scale`` (e.g. 0.25) or ``output_shape`` (rows, cols).
    """
    if (scale is None) == (output_shape is None):
        raise ValueError("give exactly one of scale and output_shape")
    h, w = img.shape[:2]
    if output_shape is None:
        out_h, out_w = int(np.ceil(h * scale)), int(np.ceil(w * scale))
        scale_h = scale_w = float(scale)
    else:
        out_h, out_w = int(output_shape[0]), int(output_shape[1])
        scale_h, scale_w = out_h / h, out_w / w
    is_uint8 = img.dtype == np.uint8
    data = img.astype(np.float64)
    squeeze = data.ndim == 2
    if squeeze:
        data = data[:, :, None]
    passes = sorted([(scale_h, 0), (scale_w, 1)], key=lambda item: item[0])  # stable: height first on ties
    for dim_scale, dim in passes:
        length, target = (h, out_h) if dim == 0 else (w, out_w)
        matrix = _resize_matrix(length, target, dim_scale, antialiasing)
        data = np.einsum("oi,iwc->owc", matrix, data) if dim == 0 else np.einsum("oi,hic->hoc", matrix, data)
        if is_uint8:
            data = _round_uint8(data).astype(np.float64)
    out = data[:, :, 0] if squeeze else data
    return out.astype(np.uint8) if is_uint8 else out


def list_images(folder: PathLike) -> List[Path]:
    """Image files directly inside ``folder`` (by suffix, sorted by name)."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


@dataclass(frozen=True)
class ImagePair:
    """One evaluation pair in the NTIRE layout: ``name`` is the HR file stem."""

    name: str
    lr_path: Path
    hr_path: Path


def find_pairs(data_dir: PathLike, split: str = "valid", scale: int = 4) -> List[ImagePair]:
    """The (LR, HR) pairs of ``split`` under ``data_dir`` in the NTIRE layout, sorted by name.

    Searches ``DIV2K_LSDIR_<split>_HR/*.png`` then ``LSDIR_DIV2K_<split>_HR/*.png``; the LR of
    ``NAME.png`` is ``..._LR/NAMEx<scale>.png``. Raises UserError when the folder is missing, no
    pair is found (naming the patterns searched), or an LR lacks its HR or the reverse.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UserError(f"--data_dir {data_dir}: no such folder")
    patterns = []
    for prefix in _LAYOUT_PREFIXES:
        hr_dir = data_dir / f"{prefix}_{split}_HR"
        lr_dir = data_dir / f"{prefix}_{split}_LR"
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
    raise UserError(f"--data_dir {data_dir}: no '{split}' pairs found; searched {' and '.join(patterns)}")


def write_pairs(
    images: Iterable[Tuple[str, np.ndarray]],
    out_dir: PathLike,
    split: str = "valid",
    scale: int = 4,
    progress: bool = True,
) -> List[ImagePair]:
    """Write (name, RGB uint8 HR) items as mod-cropped HR + MATLAB-bicubic LR in the NTIRE layout."""
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    hr_dir = out_dir / f"DIV2K_LSDIR_{split}_HR"
    lr_dir = out_dir / f"DIV2K_LSDIR_{split}_LR"
    pairs = []
    items = list(images)
    for name, hr in tqdm(items, desc=f"pairs {split}", unit="img", disable=not progress):
        hr = modcrop(hr, scale)
        if min(hr.shape[:2]) < scale:
            raise UserError(f"image {name}: {hr.shape[1]}x{hr.shape[0]} is smaller than the scale {scale}")
        lr = imresize_matlab(hr, scale=1.0 / scale)
        hr_path = write_image(hr_dir / f"{name}.png", hr)
        lr_path = write_image(lr_dir / f"{name}x{scale}.png", lr)
        pairs.append(ImagePair(name, lr_path, hr_path))
    return pairs


def make_pairs(hr_dir: PathLike, out_dir: PathLike, split: str = "valid", scale: int = 4,
               progress: bool = True) -> List[ImagePair]:
    """Build the NTIRE layout under ``out_dir`` from every image in ``hr_dir``."""
    hr_dir = Path(hr_dir)
    if not hr_dir.is_dir():
        raise UserError(f"--hr_dir {hr_dir}: no such folder")
    files = list_images(hr_dir)
    if not files:
        raise UserError(f"--hr_dir {hr_dir}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    return write_pairs(((p.stem, read_image(p)) for p in files), out_dir, split, scale, progress)


#: The embedded default data: scikit-image's bundled colour photos (no download needed).
SAMPLE_SPLITS: Dict[str, Sequence[str]] = {
    "valid": ("astronaut", "chelsea", "coffee", "rocket"),
    "test": ("immunohistochemistry", "motorcycle"),
}


def _sample_image(name: str) -> np.ndarray:
    import skimage.data

    if name == "motorcycle":
        return np.ascontiguousarray(skimage.data.stereo_motorcycle()[0])
    img = getattr(skimage.data, name)()
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise RuntimeError(f"skimage.data.{name} is not an RGB uint8 image")
    return np.ascontiguousarray(img)


def make_sample(out_dir: PathLike, scale: int = 4, progress: bool = True) -> Dict[str, List[ImagePair]]:
    """Write the embedded default set (valid: 4 photos, test: 2) in the NTIRE layout under ``out_dir``."""
    return {
        split: write_pairs(((n, _sample_image(n)) for n in names), out_dir, split, scale, progress)
        for split, names in SAMPLE_SPLITS.items()
    }
