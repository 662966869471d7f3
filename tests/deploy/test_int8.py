"""The int8 path: its PSNR gate (refused with the measured drop, accepted under a larger gate), calibration, cache."""
from __future__ import annotations

import pytest
import torch

from slimrlfn.arch.config import build_model
from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import write_image
from slimrlfn.deploy.backends import build_backend, is_installed
from slimrlfn.deploy.int8 import DEFAULT_MAX_DROP_DB, calibration_inputs, psnr_drop, refuse_if_drop_exceeds
from tests.helpers import textured_image

CPU = torch.device("cpu")
needs_nncf = pytest.mark.skipif(not (is_installed("nncf") and is_installed("openvino") and is_installed("onnx")),
                                reason="nncf / openvino / onnx not installed")


def _pairs(count: int = 2):
    pairs = []
    for seed in range(count):
        hr = textured_image(96, 112, seed=seed)
        pairs.append({"lr": imresize_matlab(hr, 0.25), "hr": hr})
    return pairs


def _model():
    torch.manual_seed(0)
    return build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}).eval()


def test_the_drop_is_fp32_minus_the_path_and_the_gate_refuses_it_with_the_measured_value():
    def model(x):  # bicubic x4: a real SR baseline, so that noise lowers its PSNR
        return torch.nn.functional.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)

    same = psnr_drop(model, model, _pairs(), CPU, data_range=255.0)
    assert same["drop_db"] == 0.0 and same["images"] == 2
    refuse_if_drop_exceeds(same)  # no drop: accepted at the default gate
    generator = torch.Generator().manual_seed(0)
    noisy = psnr_drop(lambda x: model(x) + 6.0 * torch.randn(model(x).shape, generator=generator), model, _pairs(), CPU, data_range=255.0)
    assert noisy["drop_db"] > DEFAULT_MAX_DROP_DB and noisy["int8_db"] < noisy["fp32_db"]
    with pytest.raises(UserError, match=rf"PSNR drop {noisy['drop_db']:.3f} dB .* exceeds the gate of 0.05 dB"):
        refuse_if_drop_exceeds(noisy)
    refuse_if_drop_exceeds(noisy, max_drop_db=noisy["drop_db"] + 0.01)  # a larger gate accepts it


def test_calibration_takes_a_folder_mirrors_each_image_and_names_a_useless_folder(tmp_path):
    for seed in range(3):
        write_image(tmp_path / f"{seed}.png", textured_image(160, 176, seed=seed))
    inputs = calibration_inputs(tmp_path, data_range=255.0)
    assert len(inputs) == 6 and inputs[0].shape == (1, 3, 40, 44)
    assert (inputs[1] == inputs[0][..., ::-1]).all()
    small = tmp_path / "small"
    small.mkdir()
    write_image(small / "tiny.png", textured_image(40, 40))
    with pytest.raises(UserError, match="--int8_calibration .*small: no image of at least 128x128"):
        calibration_inputs(small, data_range=255.0)
    with pytest.raises(UserError, match="expected a folder of HR images"):
        calibration_inputs(tmp_path / "missing", data_range=255.0)


@needs_nncf
def test_the_int8_backend_is_gated_on_its_measured_drop_and_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("SLIMRLFN_CACHE_DIR", str(tmp_path / "cache"))
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    for seed in range(2):
        write_image(calibration / f"{seed}.png", textured_image(128, 128, seed=10 + seed))
    pairs = _pairs()
    accepted = build_backend("openvino_int8", _model(), CPU, check_pairs=pairs, max_psnr_drop_db=100.0,
                             calibration=str(calibration), data_range=255.0)
    drop = accepted.details["psnr_check"]["drop_db"]
    assert accepted.details["int8_cache"] == "miss" and accepted.details["calibration_inputs"] == 4
    sr = accepted(torch.rand(1, 3, 24, 20) * 255)
    assert sr.shape == (1, 3, 96, 80) and torch.isfinite(sr).all()
    with pytest.raises(UserError, match=rf"refused: PSNR drop {drop:.3f} dB"):  # a gate just under the measured drop
        build_backend("openvino_int8", _model(), CPU, check_pairs=pairs, max_psnr_drop_db=drop - 1e-3,
                      calibration=str(calibration), data_range=255.0)
    again = build_backend("openvino_int8", _model(), CPU, check_pairs=pairs, max_psnr_drop_db=100.0,
                          calibration=str(calibration), data_range=255.0)
    assert again.details["int8_cache"] == "hit" and again.details["psnr_check"]["drop_db"] == drop


def test_eval_refuses_bad_int8_flags_in_one_line(tmp_path, capsys):
    assert main(["eval", "--int8_max_drop", "-1", "--save_dir", str(tmp_path / "r")]) == 2
    assert main(["eval", "--int8_calibration", str(tmp_path / "none"), "--save_dir", str(tmp_path / "r")]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines == ["slimrlfn: error: --int8_max_drop -1.0: expected a drop in dB, 0 or more",
                     f"slimrlfn: error: --int8_calibration {tmp_path / 'none'}: expected a folder of HR images"]
