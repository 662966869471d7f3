"""The int8 path's small parts, without NNCF: the gate at its boundary, calibration inputs (size, limit, range), the
quantization options, the cache key, the drop's HR mod-crop, and what a QAT folder must hold."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch

from slimrlfn.arch.checkpoints import weights_digest
from slimrlfn.core.errors import UserError
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import modcrop, write_image
from slimrlfn.deploy import int8
from slimrlfn.deploy.int8 import (DEFAULT_MAX_DROP_DB, QAT_IR, QAT_RECORD, calibration_inputs, psnr_drop, qat_model,
                                  quantization_options, refuse_if_drop_exceeds)
from tests.helpers import textured_image, tiny_slimrlfn

CPU = torch.device("cpu")


def _drop(db: float) -> dict:
    return {"drop_db": db, "fp32_db": 30.0, "int8_db": 30.0 - db, "images": 2}


def test_a_drop_equal_to_the_gate_is_accepted_and_one_just_above_it_refused():
    """Catches a gate that refuses at its own value (`>=`): docs/deployment.md accepts a drop <= 0.05 dB."""
    assert DEFAULT_MAX_DROP_DB == 0.05
    refuse_if_drop_exceeds(_drop(0.05))  # exactly at the default gate: accepted
    refuse_if_drop_exceeds(_drop(0.3), max_drop_db=0.3)  # exactly at a given gate: accepted
    with pytest.raises(UserError, match=r"refused: PSNR drop 0\.050 dB .* exceeds the gate of 0\.05 dB"):
        refuse_if_drop_exceeds(_drop(0.05 + 1e-9))
    with pytest.raises(UserError, match=r"exceeds the gate of 0\.3 dB"):
        refuse_if_drop_exceeds(_drop(0.3 + 1e-9), max_drop_db=0.3)


def test_a_gate_of_zero_refuses_any_drop_rather_than_falling_back_to_the_default():
    """Catches `--int8_max_drop 0` read as "not given" (falsy) and replaced by the 0.05 dB default."""
    refuse_if_drop_exceeds(_drop(0.0), max_drop_db=0.0)
    with pytest.raises(UserError, match=r"PSNR drop 0\.010 dB .* exceeds the gate of 0 dB"):
        refuse_if_drop_exceeds(_drop(0.01), max_drop_db=0.0)


def test_a_calibration_photo_of_exactly_the_minimum_side_is_used(tmp_path):
    """Catches calibration skipping a photo of exactly 32 LR pixels a side (the documented minimum is kept)."""
    write_image(tmp_path / "edge.png", textured_image(128, 136, seed=3))
    inputs = calibration_inputs(tmp_path, data_range=255.0)
    assert [a.shape for a in inputs] == [(1, 3, 32, 34), (1, 3, 32, 34)]


def test_calibration_returns_at_most_limit_inputs(tmp_path):
    """Catches the limit not applied to the inputs (a photo and its mirror image make two)."""
    for seed in range(3):
        write_image(tmp_path / f"{seed}.png", textured_image(128, 128, seed=seed))
    assert len(calibration_inputs(tmp_path, data_range=255.0, limit=1)) == 1
    assert len(calibration_inputs(tmp_path, data_range=255.0, limit=4)) == 4
    assert len(calibration_inputs(tmp_path, data_range=255.0)) == 6


def test_calibration_inputs_are_in_the_model_range(tmp_path):
    """Catches calibration inputs left in [0, 255] for a model whose contract is [0, 1]."""
    write_image(tmp_path / "0.png", textured_image(128, 128, seed=1))
    wide = calibration_inputs(tmp_path, data_range=255.0)
    unit = calibration_inputs(tmp_path, data_range=1.0)
    assert wide[0].max() > 100 and unit[0].max() <= 1.0
    for a, b in zip(wide, unit):
        assert b == pytest.approx(a / 255.0, abs=1e-6)


def _fake_nncf():
    return SimpleNamespace(
        OverflowFix=SimpleNamespace(ENABLE="enable", DISABLE="disable"),
        QuantizationPreset=SimpleNamespace(MIXED="mixed"), ModelType=SimpleNamespace(TRANSFORMER="transformer"),
        IgnoredScope=lambda names: SimpleNamespace(names=list(names)),
        AdvancedQuantizationParameters=lambda overflow_fix: SimpleNamespace(overflow_fix=overflow_fix))


def test_the_options_keep_the_first_the_last_and_the_named_convolutions_in_fp32_and_set_the_overflow_fix():
    """Catches the last convolution (which makes the SR) quantized, a duplicate kept name, or the 7-bit overflow
    fix applied to QAT's 8-bit weights."""
    nncf = _fake_nncf()
    convs = ["conv/0", "conv/1", "conv/2", "conv/3"]
    options = quantization_options(nncf, convs)
    assert options["ignored_scope"].names == ["conv/0", "conv/3"]
    assert options["preset"] == "mixed" and options["model_type"] == "transformer"
    assert options["advanced_parameters"].overflow_fix == "enable"
    mixed = quantization_options(nncf, convs, overflow_fix=False, keep_fp32=["conv/2", "conv/3"])
    assert mixed["ignored_scope"].names == ["conv/0", "conv/3", "conv/2"]
    assert mixed["advanced_parameters"].overflow_fix == "disable"
    assert quantization_options(nncf, [])["ignored_scope"].names == []


def test_the_cache_key_changes_with_the_data_range_and_with_the_calibration_photos_contents(tmp_path):
    """Catches a cached int8 graph served for another data range, or for new photos saved under the old names."""
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"an export")
    first, second, same = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((first, 0), (second, 1), (same, 0)):
        folder.mkdir()
        write_image(folder / "photo.png", textured_image(128, 128, seed=seed))
    key = int8._key(onnx, first, 255.0)
    assert key == int8._key(onnx, same, 255.0)  # same names and bytes: the same key
    assert key != int8._key(onnx, first, 1.0)
    assert key != int8._key(onnx, second, 255.0)
    assert int8._key(onnx, None, 255.0) != int8._key(onnx, None, 1.0)


def test_the_drop_mod_crops_hr_to_the_scale():
    """Catches psnr_drop comparing the SR with an HR that is not a multiple of the scale (NTIRE's pairs may not be)."""
    hr = textured_image(99, 115, seed=4)
    pair = {"lr": imresize_matlab(modcrop(hr, 4), 0.25), "hr": hr}

    def model(x):
        return torch.nn.functional.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)

    drop = psnr_drop(model, model, [pair], CPU, data_range=255.0)
    assert drop["drop_db"] == 0.0 and drop["images"] == 1 and 10.0 < drop["fp32_db"] < 60.0


class _FakeCore:
    """OpenVINO's Core as far as :func:`qat_model` uses it."""

    def __init__(self):
        self.read = []

    def read_model(self, path):
        self.read.append(path)
        return "graph"


def test_a_qat_folder_needs_its_record_its_graph_and_the_graph_weights(tmp_path):
    """Catches a QAT folder whose .bin is missing taken for a finished run (OpenVINO fails later, obscurely)."""
    model = tiny_slimrlfn()
    (tmp_path / QAT_RECORD).write_text(json.dumps({"source_digest": weights_digest(model), "quantization": "q",
                                                   "iterations": 4}))
    (tmp_path / QAT_IR).write_text("<xml/>")
    (tmp_path / QAT_IR).with_suffix(".bin").write_bytes(b"weights")
    core = _FakeCore()
    graph, details = qat_model(core, tmp_path, model)
    assert graph == "graph" and core.read == [str(tmp_path / QAT_IR)]
    assert details["int8_cache"] == "qat" and details["qat_iterations"] == 4 and details["quantization"] == "QAT: q"
    with pytest.raises(UserError, match="made from another fp32 model"):
        qat_model(core, tmp_path, tiny_slimrlfn(seed=1))
    (tmp_path / QAT_IR).with_suffix(".bin").unlink()
    with pytest.raises(UserError, match=r"--int8_model .*: expected the folder of a finished `slimrlfn qat` run"):
        qat_model(_FakeCore(), tmp_path, model)
