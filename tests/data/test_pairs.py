"""slimrlfn.data.pairs: the NTIRE layout found and written, bad layouts in one line."""
import numpy as np
import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import modcrop, read_image, write_image
from slimrlfn.data.pairs import find_pairs, make_pairs
from tests.helpers import textured_image


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
