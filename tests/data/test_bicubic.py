"""slimrlfn.data.bicubic: MATLAB's imresize, rounding after each pass, Set5's official LR reproduced."""
import numpy as np
import pytest

from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import modcrop, read_image
from tests.helpers import textured_image


def test_imresize_keeps_constant_images_and_shapes():
    flat = np.full((40, 36, 3), 77, np.uint8)
    assert np.array_equal(imresize_matlab(flat, 0.25), np.full((10, 9, 3), 77, np.uint8))
    up = imresize_matlab(textured_image(10, 9), 4)
    assert up.shape == (40, 36, 3) and up.dtype == np.uint8
    as_float = imresize_matlab(textured_image(16, 16).astype(np.float64), output_shape=(4, 4))
    assert as_float.dtype == np.float64 and as_float.shape == (4, 4, 3)


def test_imresize_rounds_after_each_pass_like_matlab():
    img = textured_image(32, 32)
    once = imresize_matlab(img, 0.25)
    unrounded = imresize_matlab(img.astype(np.float64), 0.25)
    assert np.abs(once.astype(float) - unrounded).max() <= 1.0


@pytest.mark.shared
def test_imresize_reproduces_matlab_bicubic_set5(set5_dir):
    identical = total = 0
    worst = 0
    for hr_path in sorted((set5_dir / "HR").glob("*.png")):
        reference = read_image(set5_dir / "LR_bicubic" / "X4" / f"{hr_path.stem}x4.png")
        mine = imresize_matlab(modcrop(read_image(hr_path), 4), 0.25)
        diff = np.abs(mine.astype(int) - reference.astype(int))
        identical += int((diff == 0).sum())
        total += diff.size
        worst = max(worst, int(diff.max()))
    assert identical / total >= 0.995
    assert worst <= 1
