"""slimrlfn.figures.crops: the crop box, the crop, the panels read from what evaluate writes, the figure."""
from __future__ import annotations

import json

import numpy as np
import pytest

from slimrlfn.data.images import write_image
from slimrlfn.data.pairs import write_pairs
from slimrlfn.figures.crops import CropBox, crop, pick_crop_box, sr_crop_panels, sr_crops_figure
from tests.helpers import assert_figure_files


def textured_image(h=96, w=128, top=40, left=64, size=32, seed=0):
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 120, dtype=np.uint8)
    img[top:top + size, left:left + size] = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    return img


def test_pick_crop_box_finds_the_textured_region():
    img = textured_image()
    assert pick_crop_box(img, 32) == CropBox(40, 64, 32, 32)
    # a smaller window lies inside the texture, a larger one covers it
    small = pick_crop_box(img, 16)
    assert 40 <= small.top <= 56 and 64 <= small.left <= 80
    large = pick_crop_box(img, (48, 40))
    assert large.top <= 40 and large.top + 48 >= 72 and large.left <= 64 and large.left + 40 >= 96


def test_pick_crop_box_is_deterministic_aligned_and_clipped():
    flat = np.zeros((50, 60, 3), dtype=np.uint8)
    assert pick_crop_box(flat, 20) == CropBox(0, 0, 20, 20)  # ties: topmost, leftmost
    img = textured_image(top=41, left=63)
    box = pick_crop_box(img, 32, align=4)
    assert box.top % 4 == 0 and box.left % 4 == 0
    assert abs(box.top - 41) <= 3 and abs(box.left - 63) <= 3
    assert pick_crop_box(img, 500) == CropBox(0, 0, 96, 128)
    assert pick_crop_box(img[..., 0], 32) == pick_crop_box(img, 32)  # grayscale works too
    assert pick_crop_box(img, 32) == pick_crop_box(img.copy(), 32)


def test_pick_crop_box_rejects_bad_arguments():
    with pytest.raises(ValueError):
        pick_crop_box(np.zeros((4,), dtype=np.uint8), 2)
    with pytest.raises(ValueError):
        pick_crop_box(np.zeros((8, 8), dtype=np.uint8), 0)
    with pytest.raises(ValueError):
        pick_crop_box(np.zeros((8, 8), dtype=np.uint8), 4, align=0)


def test_crop_cuts_the_box_and_checks_bounds():
    img = np.arange(10 * 12 * 3, dtype=np.uint8).reshape(10, 12, 3)
    out = crop(img, CropBox(2, 3, 4, 5))
    assert out.shape == (4, 5, 3)
    np.testing.assert_array_equal(out, img[2:6, 3:8])
    out[...] = 0
    assert img[2, 3, 0] != 0 or img[2, 3, 1] != 0  # a copy, not a view
    with pytest.raises(ValueError, match="does not fit"):
        crop(img, CropBox(8, 0, 4, 4))
    with pytest.raises(ValueError, match="does not fit"):
        crop(img, CropBox(-1, 0, 4, 4))


def test_sr_crop_panels_reads_what_evaluate_writes(tmp_path):
    rng = np.random.default_rng(1)
    hr = textured_image(h=96, w=96, top=32, left=48, size=32)
    data_dir = tmp_path / "data"
    write_pairs([("img", hr), ("other", rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))],
                data_dir, "valid", 4, progress=False)
    eval_dir = tmp_path / "eval"
    write_image(eval_dir / "fake" / "valid" / "img.png", hr)  # a perfect "SR"
    (eval_dir / "results.json").write_text(json.dumps({
        "fake": {"model": "Fake", "valid_names": ["img", "other"], "valid_psnr": [41.5, 30.0]}}))
    panels, box, full = sr_crop_panels(eval_dir, data_dir, "img", size=32)
    assert [label.split("\n")[0] for label, _ in panels] == ["Bicubic", "Fake", "HR"]
    assert panels[1][0] == "Fake\n41.50 dB"
    assert panels[0][0].endswith(" dB")
    assert box == CropBox(32, 48, 32, 32)
    np.testing.assert_array_equal(full, hr)
    np.testing.assert_array_equal(panels[1][1], crop(hr, box))
    np.testing.assert_array_equal(panels[2][1], crop(hr, box))
    assert all(img.shape == (32, 32, 3) for _, img in panels)
    from slimrlfn.core.errors import UserError

    with pytest.raises(UserError, match="not in the valid split"):
        sr_crop_panels(eval_dir, data_dir, "missing", size=32)
    with pytest.raises(UserError, match="no entry"):
        sr_crop_panels(eval_dir, data_dir, "img", result_names=["nope"], size=32)


def test_sr_crops_figure(tmp_path):
    rng = np.random.default_rng(2)
    full = rng.integers(0, 256, (80, 100, 3), dtype=np.uint8)
    box = CropBox(10, 20, 32, 32)
    panels = [(f"model {i}\n{30 + i:.2f} dB", crop(full, box)) for i in range(4)] + [("HR", crop(full, box))]
    paths = sr_crops_figure(panels, tmp_path, title="synthetic", context=(full, box))
    assert_figure_files(paths, tmp_path, "sr_crops")
    assert_figure_files(sr_crops_figure(panels[:1], tmp_path, stem="one"), tmp_path, "one")
    with pytest.raises(ValueError):
        sr_crops_figure([], tmp_path)
