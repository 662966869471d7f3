"""MATLAB-compatible bicubic resizing, as the NTIRE LR images are made.

:func:`imresize_matlab` follows MATLAB's ``imresize(img, scale, 'bicubic')`` (Keys cubic,
a = -0.5, antialiasing when shrinking, symmetric border); for uint8 input it rounds to uint8 after
each 1-D pass, as MATLAB does (half away from zero, then saturate), height first.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

__all__ = ["imresize_matlab"]


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
