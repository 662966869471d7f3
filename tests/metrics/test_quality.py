import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from slimrlfn.metrics import quality as metrics
from slimrlfn.metrics.quality import psnr, psnr_y, rgb_to_y, ssim, ssim_y
from tests.helpers import textured_image


def test_psnr_of_a_known_error():
    a = np.full((20, 20, 3), 100, np.uint8)
    b = a.copy()
    b[::2] += 10  # half the pixels off by 10 -> MSE 50
    assert psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 50), abs=1e-12)
    assert psnr(a, a) == float("inf")


def test_border_is_cut_before_the_metric():
    a = np.full((20, 20, 3), 50, np.uint8)
    b = a.copy()
    b[:4] = 0
    assert psnr(a, b, border=4) == float("inf")
    assert psnr(a, b, border=3) < 30


def test_ssim_matches_skimage_gaussian_ssim():
    a = textured_image(40, 36, 1)
    b = textured_image(40, 36, 2)
    reference = structural_similarity(a, b, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False, data_range=255)
    assert ssim(a, b) == pytest.approx(reference, abs=1e-6)
    assert ssim(a, a) == pytest.approx(1.0)


def test_ssim_constants_are_those_of_8_bit_data_on_flat_and_dark_images():
    """C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2 for [0, 255] data. Flat images: SSIM is the luminance term alone,
    (2 m1 m2 + C1) / (m1^2 + m2^2 + C1); dark textured images: where C1 and C2 weigh most, still skimage's value."""
    c1 = (0.01 * 255) ** 2
    flat10, flat20 = np.full((16, 16, 3), 10, np.uint8), np.full((16, 16, 3), 20, np.uint8)
    assert ssim(flat10, flat20) == pytest.approx((2 * 10 * 20 + c1) / (10 ** 2 + 20 ** 2 + c1), abs=1e-9)
    dark_a, dark_b = textured_image(40, 36, 1) // 24, textured_image(40, 36, 2) // 12
    reference = structural_similarity(dark_a, dark_b, channel_axis=2, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False, data_range=255)
    assert ssim(dark_a, dark_b) == pytest.approx(reference, abs=1e-6)


def test_y_channel_is_bt601_studio_swing():
    img = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0]]], np.uint8)
    assert rgb_to_y(img) == pytest.approx(np.array([[16.0, 235.0, 16 + 65.481]]))
    a, b = textured_image(30, 30, 1), textured_image(30, 30, 2)
    assert psnr_y(a, b) == pytest.approx(psnr(rgb_to_y(a), rgb_to_y(b)))
    assert 0 < ssim_y(a, b) < 1


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="same shape"):
        psnr(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8))


def test_fast_uint8_psnr_equals_the_float64_formula_to_the_last_bit():
    a, b = textured_image(64, 48, 1), textured_image(64, 48, 2)
    mse = np.mean((a[4:-4, 4:-4].astype(np.float64) - b[4:-4, 4:-4].astype(np.float64)) ** 2)
    assert psnr(a, b, border=4) == 20 * math.log10(255.0 / math.sqrt(mse))
    assert psnr(a.astype(np.float64), b.astype(np.float64), border=4) == psnr(a, b, border=4)


def test_large_uint8_images_do_not_overflow():
    a = np.zeros((1356, 2040, 3), np.uint8)
    b = np.full_like(a, 255)
    assert psnr(a, b) == 0.0


@pytest.mark.parametrize("border", [0, 4])
def test_one_pass_psnr_rgb_and_y_equals_the_two_metrics(border):
    sr, hr = textured_image(61, 47, seed=3), textured_image(61, 47, seed=4)
    rgb, y = metrics.psnr_rgb_and_y(sr, hr, border)
    assert rgb == metrics.psnr(sr, hr, border)  # integer sums in float64: the same bits
    assert y == pytest.approx(metrics.psnr_y(sr, hr, border), abs=1e-9)
    assert metrics.psnr_rgb_and_y(hr, hr, border) == (float("inf"), float("inf"))


def test_one_pass_psnr_wants_rgb_uint8():
    with pytest.raises(ValueError, match="RGB uint8"):
        metrics.psnr_rgb_and_y(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)))
