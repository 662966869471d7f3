import cv2
import numpy as np
import pytest

from slimrlfn.data import (SAMPLE_SPLITS, find_pairs, imresize_matlab, make_pairs, make_sample, modcrop,
                           read_image, write_image)
from slimrlfn.errors import UserError

from conftest import textured_image


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


def test_find_pairs_in_the_ntire_layout(tiny_pairs):
    pairs = find_pairs(tiny_pairs, "valid")
    assert [p.name for p in pairs] == ["a", "b"]
    assert pairs[0].lr_path.name == "ax4.png" and pairs[0].hr_path.parent.name == "DIV2K_LSDIR_valid_HR"
    assert read_image(pairs[0].lr_path).shape == (24, 20, 3)
    assert [p.name for p in find_pairs(tiny_pairs, "test")] == ["c"]


def test_find_pairs_accepts_the_2024_organisers_folder_names(tiny_pairs):
    (tiny_pairs / "DIV2K_LSDIR_valid_HR").rename(tiny_pairs / "LSDIR_DIV2K_valid_HR")
    (tiny_pairs / "DIV2K_LSDIR_valid_LR").rename(tiny_pairs / "LSDIR_DIV2K_valid_LR")
    assert len(find_pairs(tiny_pairs, "valid")) == 2


def test_find_pairs_bad_layouts(tiny_pairs, tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        find_pairs(tmp_path / "nowhere")
    with pytest.raises(UserError, match=r"no 'extra' pairs found; searched .*DIV2K_LSDIR_extra_HR/\*\.png and .*LSDIR_DIV2K_extra_HR"):
        find_pairs(tiny_pairs, "extra")
    (tiny_pairs / "DIV2K_LSDIR_valid_LR" / "bx4.png").unlink()
    with pytest.raises(UserError, match=r"HR image .*b.png has no LR .*bx4.png"):
        find_pairs(tiny_pairs, "valid")
    (tiny_pairs / "DIV2K_LSDIR_test_HR" / "c.png").unlink()
    with pytest.raises(UserError, match=r"LR image .*cx4.png has no HR"):
        find_pairs(tiny_pairs, "test")


def test_make_pairs_builds_modcropped_hr_and_bicubic_lr(tmp_path):
    hr_dir = tmp_path / "hr"
    hr_dir.mkdir()
    write_image(hr_dir / "odd.png", textured_image(50, 43))
    pairs = make_pairs(hr_dir, tmp_path / "out", progress=False)
    assert read_image(pairs[0].hr_path).shape == (48, 40, 3)
    assert np.array_equal(read_image(pairs[0].lr_path), imresize_matlab(modcrop(textured_image(50, 43), 4), 0.25))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no images"):
        make_pairs(tmp_path / "empty", tmp_path / "out2")
    with pytest.raises(UserError, match="--hr_dir .*: no such folder"):
        make_pairs(tmp_path / "nowhere", tmp_path / "out3")


def test_make_sample_uses_only_packaged_images(tmp_path):
    splits = make_sample(tmp_path, progress=False)
    assert {s: [p.name for p in pairs] for s, pairs in splits.items()} == {s: list(n) for s, n in SAMPLE_SPLITS.items()}
    assert len(find_pairs(tmp_path, "valid")) == 4 and len(find_pairs(tmp_path, "test")) == 2
