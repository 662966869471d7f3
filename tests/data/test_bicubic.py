"""slimrlfn.data.bicubic: MATLAB's imresize, its uint8 rounding (half away from zero) after each pass on
hand-made values, Set5's and Set14's official LR reproduced exactly."""
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


def _column_halves() -> np.ndarray:
    """8x4 RGB whose exact 1/2 shrink (height pass) gives halves: R a 128 at row 3, G a 128 at row 4, B 255 with
    127 at row 3 (constant along the width, so the width pass changes nothing)."""
    img = np.zeros((8, 4, 3), np.uint8)
    img[3, :, 0] = 128
    img[4, :, 1] = 128
    img[:, :, 2] = 255
    img[3, :, 2] = 127
    return img


def test_uint8_rounding_is_matlabs_half_away_from_zero_on_hand_made_values():
    """Shrinking by 2, MATLAB's antialiased cubic has the taps 111, 29, -9, -3 (/256) on each side: a 128 gives
    exact halves. MATLAB's uint8() rounds them away from zero (14.5 -> 15, 240.5 -> 241), not to even (14, 240)."""
    img = _column_halves()
    exact = imresize_matlab(img.astype(np.float64), 0.5)
    assert exact.shape == (4, 2, 3)
    assert exact[:, 0, 0].tolist() == [-4.5, 55.5, 14.5, -1.5]
    assert exact[:, 0, 1].tolist() == [-1.5, 14.5, 55.5, -4.5]
    assert exact[:, 0, 2].tolist() == [259.5, 199.5, 240.5, 256.5]
    expected = np.array([[0, 56, 15, 0], [0, 15, 56, 0], [255, 200, 241, 255]], np.uint8)  # channel, row
    rounded = imresize_matlab(img, 0.5)
    assert rounded.dtype == np.uint8
    assert np.array_equal(rounded, np.repeat(expected.T[:, None, :], 2, axis=1))
    # the same halves in the second (width) pass: the transposed image
    across = imresize_matlab(np.ascontiguousarray(img.transpose(1, 0, 2)), 0.5)
    assert np.array_equal(across, np.repeat(expected.T[None, :, :], 2, axis=0))


@pytest.mark.shared
@pytest.mark.parametrize("dataset", ["Set5", "Set14"])
def test_imresize_reproduces_matlab_bicubic_exactly(request, dataset):
    """Every LR pixel of the official MATLAB-bicubic Set5 and Set14 (Set14 has HR sizes off a multiple of 4 and a
    grayscale image) is reproduced: 100 %, not 'almost' (a rounding change moves only a few pixels by 1)."""
    folder = request.getfixturevalue(f"{dataset.lower()}_dir")  # skips when that set is absent
    hr_paths = sorted((folder / "HR").glob("*.png"))
    assert len(hr_paths) == {"Set5": 5, "Set14": 14}[dataset]
    for hr_path in hr_paths:
        reference = read_image(folder / "LR_bicubic" / "X4" / f"{hr_path.stem}x4.png")
        mine = imresize_matlab(modcrop(read_image(hr_path), 4), 0.25)
        assert mine.shape == reference.shape, hr_path.name
        differing = int((mine != reference).sum())
        assert differing == 0, f"{hr_path.name}: {differing} of {mine.size} LR values differ from MATLAB's"
