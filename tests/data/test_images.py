"""slimrlfn.data.images: RGB uint8 IO (gray, RGBA, 16-bit), lossless round trip, mod-crop."""
import cv2
import numpy as np
import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.data.images import modcrop, read_image, write_image
from tests.helpers import textured_image


def test_read_image_converts_gray_rgba_and_16_bit(tmp_path):
    rgb = textured_image(12, 10)
    cv2.imwrite(str(tmp_path / "gray.png"), rgb[:, :, 0])
    cv2.imwrite(str(tmp_path / "rgba.png"), np.dstack([rgb[:, :, ::-1], np.full((12, 10), 7, np.uint8)]))
    cv2.imwrite(str(tmp_path / "deep.png"), (rgb[:, :, ::-1].astype(np.uint16) * 257))
    gray = read_image(tmp_path / "gray.png")
    assert gray.shape == (12, 10, 3) and np.array_equal(gray[:, :, 1], rgb[:, :, 0])
    assert np.array_equal(read_image(tmp_path / "rgba.png"), rgb)
    assert np.array_equal(read_image(tmp_path / "deep.png"), rgb)


def test_write_then_read_is_lossless_rgb(tmp_path):
    rgb = textured_image(9, 14)
    write_image(tmp_path / "x.png", rgb)
    assert np.array_equal(read_image(tmp_path / "x.png"), rgb)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_corrupt_and_missing_images_name_the_file(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(UserError, match="bad.png: cannot be decoded"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(UserError, match="gone.png: no such file"):
        read_image(tmp_path / "gone.png")


def test_modcrop_drops_bottom_and_right():
    img = np.arange(7 * 10).reshape(7, 10)
    assert np.array_equal(modcrop(img, 4), img[:4, :8])


def test_image_size_reads_a_png_header_and_decodes_other_files(tmp_path):
    from slimrlfn.data.images import image_size

    img = np.zeros((37, 53, 3), np.uint8)
    write_image(tmp_path / "a.png", img)
    write_image(tmp_path / "a.bmp", img)
    assert image_size(tmp_path / "a.png") == (37, 53) == image_size(tmp_path / "a.bmp")
    with pytest.raises(UserError, match="no such file"):
        image_size(tmp_path / "missing.png")
