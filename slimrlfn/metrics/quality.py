"""PSNR and SSIM as the NTIRE ESR challenge computes them (KAIR ``utils/utils_image.py``).

Conventions (all functions):

============  =====================================================================
input         ``numpy.ndarray`` (H, W, C) or (H, W), dtype uint8, values [0, 255] (the Y variants
              pass float64 Y planes on)
channel order RGB (the NTIRE metric is computed on the RGB image, channels averaged)
border        ``border`` pixels are cut from every side first (NTIRE: border = scale)
computation   float64
SSIM          Gaussian window 11x11, sigma 1.5, valid region, per channel, mean
Y channel     ITU-R BT.601 as MATLAB's ``rgb2ycbcr`` on double input (BasicSR's
              ``to_y_channel``): Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255,
              float64 in [16, 235], not rounded. This is the convention that reproduces
              the published Set5 Y-PSNRs of the NTIRE 2024 checkpoints (rounding Y to
              uint8 first gives about 0.02 dB less).
============  =====================================================================
"""
from __future__ import annotations

import math

import cv2
import numpy as np

__all__ = ["psnr", "ssim", "rgb_to_y", "psnr_y", "ssim_y", "psnr_rgb_and_y"]


def _check_pair(img1: np.ndarray, img2: np.ndarray) -> None:
    if img1.shape != img2.shape:
        raise ValueError(f"images must have the same shape, got {img1.shape} and {img2.shape}")


def _crop(img: np.ndarray, border: int) -> np.ndarray:
    h, w = img.shape[:2]
    return img[border:h - border, border:w - border]


def _psnr_from_mse(mse: float) -> float:
    return float("inf") if mse == 0 else 20.0 * math.log10(255.0 / math.sqrt(mse))


def psnr(img1: np.ndarray, img2: np.ndarray, border: int = 0) -> float:
    """PSNR in dB over all channels, peak 255; ``inf`` for identical images.

    For two uint8 images the squared errors are summed exactly in int64, which gives the same
    float64 result as NTIRE's float64 mean (every partial sum is an integer below 2**53), faster.
    """
    _check_pair(img1, img2)
    a, b = _crop(img1, border), _crop(img2, border)
    if a.dtype == np.uint8 and b.dtype == np.uint8:
        diff = (a.astype(np.int64) - b.astype(np.int64)).ravel()  # int64: no overflow in the dot
        return _psnr_from_mse(float(np.dot(diff, diff)) / diff.size)
    diff = a.astype(np.float64) - b.astype(np.float64)
    return _psnr_from_mse(float(np.mean(diff ** 2)))


def _ssim_single(a: np.ndarray, b: np.ndarray) -> float:
    c1 = (0.01 * 255) ** 2
    c2 = (0.03 * 255) ** 2
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    kernel = cv2.getGaussianKernel(11, 1.5)
    window = np.outer(kernel, kernel.transpose())
    mu1 = cv2.filter2D(a, -1, window)[5:-5, 5:-5]
    mu2 = cv2.filter2D(b, -1, window)[5:-5, 5:-5]
    mu1_sq, mu2_sq, mu1_mu2 = mu1 ** 2, mu2 ** 2, mu1 * mu2
    sigma1_sq = cv2.filter2D(a ** 2, -1, window)[5:-5, 5:-5] - mu1_sq
    sigma2_sq = cv2.filter2D(b ** 2, -1, window)[5:-5, 5:-5] - mu2_sq
    sigma12 = cv2.filter2D(a * b, -1, window)[5:-5, 5:-5] - mu1_mu2
    ssim_map = ((2 * mu1_mu2 + c1) * (2 * sigma12 + c2)) / ((mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2))
    return float(ssim_map.mean())


def ssim(img1: np.ndarray, img2: np.ndarray, border: int = 0) -> float:
    """SSIM in [-1, 1] (1 = identical), averaged over channels; needs H, W >= 11 after the crop."""
    _check_pair(img1, img2)
    a, b = _crop(img1, border), _crop(img2, border)
    if min(a.shape[:2]) < 11:
        raise ValueError(f"SSIM needs at least 11x11 pixels after the border crop, got {a.shape[:2]}")
    if a.ndim == 2:
        return _ssim_single(a, b)
    return float(np.mean([_ssim_single(a[:, :, i], b[:, :, i]) for i in range(a.shape[2])]))


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> Y float64 (H, W), BT.601 'studio swing' [16, 235], not rounded."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"rgb_to_y expects (H, W, 3), got {img.shape}")
    return img.astype(np.float64) @ np.array([65.481, 128.553, 24.966]) / 255.0 + 16.0


def psnr_y(img1: np.ndarray, img2: np.ndarray, border: int = 0) -> float:
    """PSNR in dB on the BT.601 Y channel of two RGB uint8 images (Y difference = RGB difference @ weights)."""
    _check_pair(img1, img2)
    if img1.ndim != 3 or img1.shape[2] != 3:
        raise ValueError(f"psnr_y expects (H, W, 3), got {img1.shape}")
    diff = _crop(img1, border).astype(np.float64) - _crop(img2, border).astype(np.float64)
    y_diff = diff @ (np.array([65.481, 128.553, 24.966]) / 255.0)
    return _psnr_from_mse(float(np.mean(y_diff ** 2)))


_Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def psnr_rgb_and_y(img1: np.ndarray, img2: np.ndarray, border: int = 0) -> tuple:
    """``(psnr(img1, img2), psnr_y(img1, img2))`` of two RGB uint8 (H, W, 3) images in one pass, in dB.

    Both come from the 3x3 matrix ``M = D^T D`` of the per-pixel RGB differences ``D`` (N x 3),
    summed in float64 where every partial sum is an integer below 2**53, so exactly:
    RGB MSE = trace(M) / 3N (the same float64 as :func:`psnr`); Y MSE = w^T M w / N with the
    BT.601 weights ``w`` (mathematically the mean of the squared Y differences of :func:`psnr_y`,
    equal to it within float64 rounding, about 1e-13 relative). About 3x faster than both calls.
    """
    _check_pair(img1, img2)
    if img1.ndim != 3 or img1.shape[2] != 3 or img1.dtype != np.uint8 or img2.dtype != np.uint8:
        raise ValueError(f"psnr_rgb_and_y expects two RGB uint8 (H, W, 3) images, got {img1.shape} {img1.dtype} "
                         f"and {img2.dtype}")
    diff = np.subtract(_crop(img1, border), _crop(img2, border), dtype=np.float64).reshape(-1, 3)
    moments = diff.T @ diff
    count = diff.shape[0]
    rgb = _psnr_from_mse(float(np.trace(moments)) / (3 * count))
    y = _psnr_from_mse(float(_Y_WEIGHTS @ moments @ _Y_WEIGHTS) / count)
    return rgb, y


def ssim_y(img1: np.ndarray, img2: np.ndarray, border: int = 0) -> float:
    """SSIM on the BT.601 Y channel of two RGB uint8 images."""
    return ssim(rgb_to_y(img1), rgb_to_y(img2), border)
