"""The crops that evaluate checks a path on: the centre of the first LR image, and LR/HR windows that match."""
from __future__ import annotations

import numpy as np

from slimrlfn.data.images import write_image
from slimrlfn.data.pairs import find_pairs
from slimrlfn.evaluate.ntire import _centre_crop, _gate_pairs
from tests.helpers import textured_image


def test_the_centre_crop_keeps_short_sides_whole():
    img = textured_image(50, 300)
    crop = _centre_crop(img, 128)
    assert crop.shape == (50, 128, 3) and (crop == img[:, 86:214]).all()


def test_the_gate_crops_of_lr_and_hr_cover_the_same_window(tmp_path):
    hr = textured_image(402, 610, seed=3)  # not a multiple of 4: mod-cropped first
    write_image(tmp_path / "DIV2K_LSDIR_valid_HR" / "x.png", hr)
    write_image(tmp_path / "DIV2K_LSDIR_valid_LR" / "xx4.png", np.ascontiguousarray(hr[:400:4, :608:4]))
    (pair,) = _gate_pairs(find_pairs(tmp_path, "valid", 4), 4, 64)
    assert pair["lr"].shape == (64, 64, 3) and pair["hr"].shape == (256, 256, 3)
    assert (pair["hr"][::4, ::4] == pair["lr"]).all()
