"""slimrlfn.evaluate.ntire.evaluate: its PSNR, PSNR-Y, SSIM and SSIM-Y are the functions of slimrlfn.metrics.quality
on the SR it wrote and the HR mod-cropped to the scale, border = scale; HR sizes off a multiple of 4 (synthetic ones
and Set14's comic.png, 361x250)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from slimrlfn.arch.contract import Contract
from slimrlfn.arch.ref import ModelRef, resolve_model
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import modcrop, read_image, write_image
from slimrlfn.evaluate.ntire import evaluate
from slimrlfn.metrics.quality import psnr, psnr_y, ssim, ssim_y
from tests.helpers import textured_image

#: name -> HR (height, width): both sides off a multiple of 4, one side off, a multiple.
HR_SIZES = {"a": (99, 85), "b": (96, 82), "c": (80, 72)}


class BicubicSR(nn.Module):
    """x4 bicubic upsampling after an identity 3x3 conv (a parameter, so the counters have something to count):
    an SR close enough to the HR for SSIM's border crop and Y channel to matter."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.bias.zero_()
            for channel in range(3):
                self.conv.weight[channel, channel, 1, 1] = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(self.conv(x), scale_factor=4, mode="bicubic", align_corners=False)


def bicubic_spec() -> ModelSpec:
    ref = ModelRef.parse("class:tests.evaluate.test_metrics_through_evaluate:BicubicSR")
    return ModelSpec(ref, BicubicSR().eval(), "bicubic", "Bicubic", Contract(255.0, 4))


@pytest.fixture
def odd_pairs(tmp_path):
    """NTIRE layout whose HR are stored *unmodcropped* (as DIV2K and Set14 are), LR = MATLAB bicubic of the mod-crop."""
    root = tmp_path / "odd"
    for seed, (name, (h, w)) in enumerate(HR_SIZES.items()):
        hr = textured_image(h, w, seed + 20)
        write_image(root / "DIV2K_LSDIR_valid_HR" / f"{name}.png", hr)
        write_image(root / "DIV2K_LSDIR_valid_LR" / f"{name}x4.png", imresize_matlab(modcrop(hr, 4), 0.25))
    return root


def test_evaluate_metrics_are_the_metric_functions_with_border_and_modcrop(odd_pairs, tmp_path):
    save = tmp_path / "out"
    entry = evaluate(bicubic_spec(), odd_pairs, save, device="cpu", with_ssim=True, backend="eager", progress=False)
    assert entry["valid_names"] == list(HR_SIZES)
    for i, (name, (h, w)) in enumerate(HR_SIZES.items()):
        sr = read_image(save / "bicubic" / "valid" / f"{name}.png")
        stored = read_image(odd_pairs / "DIV2K_LSDIR_valid_HR" / f"{name}.png")
        assert stored.shape == (h, w, 3)
        hr = modcrop(stored, 4)
        assert sr.shape == hr.shape == (h - h % 4, w - w % 4, 3), name
        assert entry["valid_psnr"][i] == psnr(sr, hr, border=4), name  # the same float64, bit for bit
        assert entry["valid_psnr_y"][i] == pytest.approx(psnr_y(sr, hr, border=4), abs=1e-9), name
        assert entry["valid_ssim"][i] == pytest.approx(ssim(sr, hr, border=4), abs=1e-12), name
        assert entry["valid_ssim_y"][i] == pytest.approx(ssim_y(sr, hr, border=4), abs=1e-12), name
        # this data tells the conventions apart: a missing crop or SSIM on RGB would be seen
        assert abs(ssim(sr, hr, border=4) - ssim(sr, hr)) > 1e-3, name
        assert abs(ssim_y(sr, hr, border=4) - ssim(sr, hr, border=4)) > 1e-3, name
        assert abs(psnr(sr, hr, border=4) - psnr(sr, hr)) > 1e-3, name
        assert 0.3 < entry["valid_ssim"][i] < 1.0 and 15.0 < entry["valid_psnr"][i] < 40.0, name
    for key in ("psnr", "psnr_y", "ssim", "ssim_y"):
        assert entry[f"valid_ave_{key}"] == pytest.approx(np.mean(entry[f"valid_{key}"]), abs=1e-12)
    # evaluate freezes the weights (requires_grad False) before counting: every parameter still counts
    assert entry["num_parameters"] == pytest.approx((3 * 3 * 9 + 3) / 1e6, rel=1e-12)
    assert entry["num_conv"] == 1


def test_the_border_is_the_scale_of_the_model(odd_pairs, tmp_path):
    """An x2 model: HR mod-cropped to 2 and border 2 (not the x4 defaults)."""
    root = tmp_path / "x2"
    hr = textured_image(47, 53, 31)  # both odd: mod 2 crops one row and one column
    write_image(root / "DIV2K_LSDIR_valid_HR" / "d.png", hr)
    write_image(root / "DIV2K_LSDIR_valid_LR" / "dx2.png", imresize_matlab(modcrop(hr, 2), 0.5))

    class Bicubic2(BicubicSR):
        def forward(self, x):
            return F.interpolate(self.conv(x), scale_factor=2, mode="bicubic", align_corners=False)

    ref = ModelRef.parse("class:tests.evaluate.test_metrics_through_evaluate:Bicubic2")
    spec = ModelSpec(ref, Bicubic2().eval(), "bicubic2", "Bicubic x2", Contract(255.0, 2))
    entry = evaluate(spec, root, tmp_path / "out", device="cpu", with_ssim=True, backend="eager", progress=False)
    sr = read_image(tmp_path / "out" / "bicubic2" / "valid" / "d.png")
    assert sr.shape == (46, 52, 3)
    assert entry["valid_psnr"] == [psnr(sr, modcrop(hr, 2), border=2)]
    assert entry["valid_ssim"][0] == pytest.approx(ssim(sr, modcrop(hr, 2), border=2), abs=1e-12)


@pytest.mark.shared
def test_set14_comic_361x250_is_mod_cropped_to_360x248(official_zoo, set14_dir, tmp_path):
    data = tmp_path / "comic"
    (data / "HR").mkdir(parents=True)
    (data / "LR_bicubic" / "X4").mkdir(parents=True)
    (data / "HR" / "comic.png").write_bytes((set14_dir / "HR" / "comic.png").read_bytes())
    lr_name = "LR_bicubic/X4/comicx4.png"
    (data / lr_name).write_bytes((set14_dir / lr_name).read_bytes())
    spec = resolve_model(model="slimrlfn")
    save = tmp_path / "out"
    entry = evaluate(spec, data, save, device="cpu", with_ssim=True, backend="eager", progress=False)
    full = read_image(set14_dir / "HR" / "comic.png")
    assert full.shape == (361, 250, 3)  # 361 rows, 250 columns: neither a multiple of 4
    sr = read_image(save / spec.result_name / "valid" / "comic.png")
    hr = modcrop(full, 4)
    assert sr.shape == hr.shape == (360, 248, 3)
    assert entry["valid_psnr"] == [psnr(sr, hr, border=4)]
    assert entry["valid_ssim"][0] == pytest.approx(ssim(sr, hr, border=4), abs=1e-12)
    assert entry["valid_ssim_y"][0] == pytest.approx(ssim_y(sr, hr, border=4), abs=1e-12)
    assert entry["num_parameters"] == pytest.approx(0.2078, abs=5e-5)  # ../shared/README.md: 0.2078 M
    assert entry["flops"] == pytest.approx(11.991, abs=5e-4)  # fvcore, 1x3x256x256: 11.991 G
    assert 20.0 < entry["valid_psnr"][0] < 24.0  # 21.98 dB: comic is among the hardest of Set14 (mean 26.78)
