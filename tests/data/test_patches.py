"""slimrlfn.data.patches and slimrlfn.data.validation: aligned crops of the whole-image LR, symmetries, shards, validation images."""

import numpy as np
import pytest
import torch

from slimrlfn.core.errors import UserError
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import modcrop, read_image, write_image
from slimrlfn.data.patches import PatchDataset, ShardSampler, apply_symmetry
from slimrlfn.data.validation import load_validation
from tests.helpers import textured_image


def _is_aligned_crop(dataset, lr, hr) -> bool:
    """Some source image holds ``lr`` at (top, left) and ``hr`` at (4 top, 4 left)."""
    for source in dataset.sources:
        for top in range(source.lr.shape[0] - 15):
            for left in range(source.lr.shape[1] - 15):
                if (source.lr[top:top + 16, left:left + 16] == lr).all():
                    return bool((source.hr[4 * top:4 * top + 64, 4 * left:4 * left + 64] == hr).all())
    return False


def test_patches_are_aligned_crops_of_the_whole_image_lr(hr_dir):
    dataset = PatchDataset([hr_dir], scale=4, lr_patch=16, seed=1, augment=False)
    assert (dataset.sources[0].lr == imresize_matlab(modcrop(read_image(hr_dir / "img0.png"), 4), scale=0.25)).all()
    for index in range(8):
        lr, hr = dataset[index]
        assert lr.shape == (3, 16, 16) and hr.shape == (3, 64, 64) and lr.dtype == torch.float32
        assert _is_aligned_crop(dataset, lr.permute(1, 2, 0).numpy(), hr.permute(1, 2, 0).numpy()), index
    assert torch.equal(dataset[5][0], dataset[5][0])  # a pure function of (seed, index)
    assert not torch.equal(dataset[5][0], PatchDataset([hr_dir], 4, 16, seed=2)[5][0])


def test_symmetries_and_disk_cache_give_the_same_patches(hr_dir, tmp_path):
    grid = np.arange(12).reshape(2, 2, 3)
    shapes = {apply_symmetry(grid, code).tobytes() for code in range(8)}
    assert len(shapes) == 8
    memory = PatchDataset([hr_dir], 4, 16, seed=3)
    disk = PatchDataset([hr_dir], 4, 16, seed=3, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*x4.png"))) == 3
    for index in range(6):
        assert all(torch.equal(a, b) for a, b in zip(memory[index], disk[index]))


def test_shards_are_disjoint_and_resume_continues_the_stream():
    ranks = [list(ShardSampler(3, 0, 4, rank, 2)) for rank in range(2)]
    assert not set(ranks[0]) & set(ranks[1]) and sorted(ranks[0] + ranks[1]) == list(range(24))
    assert list(ShardSampler(3, 0, 4)) == list(ShardSampler(3, 0, 2)) + list(ShardSampler(3, 2, 4))
    assert len(ShardSampler(3, 1, 4)) == 9


def test_bad_training_folders(tmp_path, hr_dir):
    with pytest.raises(UserError, match="--hr_dir .*nowhere: no such folder"):
        PatchDataset([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="--hr_dir .*empty: no images"):
        PatchDataset([tmp_path / "empty"])
    write_image(hr_dir / "small.png", textured_image(40, 90, 7))
    with pytest.warns(UserWarning, match=r"skipped 1 of 4 training images .* small.png \(88x40\)"):
        dataset = PatchDataset([hr_dir], 4, 16)
    assert len(dataset.sources) == 3
    with pytest.raises(UserError, match=r"no image is large enough.*img0.png \(88x96\)"):
        PatchDataset([hr_dir], 4, 32)
    with pytest.raises(UserError, match="--lr_patch 8"):
        PatchDataset([hr_dir], 4, 8)


def test_load_validation(val_dir):
    images = load_validation(val_dir)
    assert [i.name for i in images] == ["v"] and images[0].hr.shape == (80, 72, 3) and images[0].lr.shape == (20, 18, 3)
