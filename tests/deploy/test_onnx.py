"""ONNX export: opset and dynamic axes, the check against eager, refusal leaves nothing, CLI errors."""
from __future__ import annotations

import json

import pytest
import torch

from slimrlfn.arch.config import build_model
from slimrlfn.arch.ref import resolve_model
from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.data.sample import example_images
from slimrlfn.deploy import backends as backends_module
from slimrlfn.deploy.onnx import export_onnx
from tests.helpers import LOADING_2024

pytestmark = pytest.mark.skipif(not (backends_module.is_installed("onnx") and backends_module.is_installed("onnxruntime")),
                                reason="onnx/onnxruntime not installed (pip install -e .[deploy])")


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(1)
    return build_model({"arch": "slimrlfn", "feature_channels": 12, "num_blocks": 2}).eval()


def test_example_images_are_real_lr_hr_pairs():
    images = example_images(limit=2)
    assert [i["name"] for i in images] == ["astronaut", "coffee"]
    for image in images:
        assert image["lr"].dtype == image["hr"].dtype == "uint8"
        assert image["hr"].shape == (256, 256, 3) and image["lr"].shape == (64, 64, 3)
        assert 20 < image["lr"].mean() < 235


def test_export_writes_opset_17_with_dynamic_height_and_width(small_model, tmp_path):
    import onnx
    import onnxruntime

    report = export_onnx(small_model, tmp_path / "m.onnx", example_images(limit=1), tolerance=1.0, data_range=255.0)
    model = onnx.load(str(tmp_path / "m.onnx"))
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == [1, 3, "height", "width"]
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    for h, w in ((24, 24), (30, 41)):
        x = torch.rand(1, 3, h, w) * 255
        out = session.run(None, {"lr": x.numpy()})[0]
        assert out.shape == (1, 3, 4 * h, 4 * w)
    written = json.loads((tmp_path / "m.onnx.json").read_text())
    assert written["opset"] == 17 and written["max_abs_diff"] == report["max_abs_diff"]
    assert set(written["checks"]) >= {"onnxruntime"}
    assert written["psnr_onnx"] is not None


def test_export_refuses_and_leaves_nothing_when_off(small_model, tmp_path):
    with pytest.raises(UserError, match=r"the export is not exact, refused \(tolerance 1e-12"):
        export_onnx(small_model, tmp_path / "m.onnx", example_images(limit=1), tolerance=1e-12, data_range=255.0)
    assert list(tmp_path.iterdir()) == []


def test_export_rejects_a_wrong_suffix_and_old_opset(small_model, tmp_path):
    with pytest.raises(UserError, match="ending in .onnx"):
        export_onnx(small_model, tmp_path / "m.bin", example_images(limit=1), data_range=255.0)
    with pytest.raises(UserError, match="--opset 11: expected 17 or newer"):
        export_onnx(small_model, tmp_path / "m.onnx", example_images(limit=1), opset=11, data_range=255.0)
    assert not (tmp_path / "m.onnx").exists()


def test_cli_export_needs_exactly_one_source(capsys):
    assert main(["export"]) == 2
    assert main(["export", "--model", "slimrlfn", "--checkpoint", "x.pth"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["slimrlfn: error: export: name the model: --model NAME, --checkpoint PATH, or --challenge_repo DIR "
                   "--model_id N",
                   "slimrlfn: error: --checkpoint: give either --checkpoint or --model/--model_id, not both"]


def test_cli_export_checkpoint(small_model, tmp_path, capsys):
    from slimrlfn.arch.checkpoints import save_checkpoint

    checkpoint = save_checkpoint(small_model, tmp_path / "small.pth")
    out = tmp_path / "out" / "small.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(out), "--tolerance", "1"]) == 0
    assert out.is_file() and "max abs difference to eager" in capsys.readouterr().out


def test_an_export_kept_by_one_runtime_says_which_runtime_is_over_the_tolerance(small_model, tmp_path, capsys,
                                                                                monkeypatch):
    """The file is kept when one runtime runs it within --tolerance; the line must say the other one does not."""
    from slimrlfn.arch.checkpoints import save_checkpoint
    from slimrlfn.deploy import command

    def fake_export(model, out, images, *args, **kwargs):
        return {"exporter": "torchscript", "opset": 17, "input_size": "dynamic", "images": ["a"], "export_s": 0.1,
                "psnr_onnx": None, "psnr_eager": None,
                "checks": {"onnxruntime": {"max_abs_diff": 2e-3, "within_tolerance": False},
                           "openvino": {"max_abs_diff": 4e-4, "within_tolerance": True}}}

    monkeypatch.setattr(command, "export_onnx", fake_export)
    checkpoint = save_checkpoint(small_model, tmp_path / "small.pth")
    assert main(["export", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "s.onnx")]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "onnxruntime 2.00e-03 (over the tolerance), openvino 4.00e-04; exported" in line
    assert line.endswith("kept because openvino runs it within --tolerance 0.001; the onnxruntime backend refuses "
                         "this file")


def test_official_exports_keep_set5_psnr(official_zoo, set5_dir, tmp_path, capsys):
    """Issue 6: max |ONNX - eager| <= 1e-3 on the [0, 255] output and Set5 PSNR equal to 0.001 dB."""
    import os

    data = tmp_path / "set5"
    (data / "DIV2K_LSDIR_valid_HR").mkdir(parents=True)
    (data / "DIV2K_LSDIR_valid_LR").mkdir()
    for hr in sorted((set5_dir / "HR").glob("*.png")):
        os.symlink(hr, data / "DIV2K_LSDIR_valid_HR" / hr.name)
        os.symlink(set5_dir / "LR_bicubic" / "X4" / f"{hr.stem}x4.png", data / "DIV2K_LSDIR_valid_LR" / f"{hr.stem}x4.png")
    for name in ("rlfn", "slimrlfn", "slimrlfn_prune"):
        assert main(["export", "--model", name, "--check_data", str(data), "--out", str(tmp_path / f"{name}.onnx")]) == 0
        report = json.loads((tmp_path / f"{name}.onnx.json").read_text())
        assert report["max_abs_diff"] <= 1e-3 and report["psnr_diff_db"] <= 1e-3, name
        assert len(report["images"]) == 5


class WindowPool(torch.nn.Module):
    """x4 with an adaptive pooling to H/8 x W/8 (as the 2024 entries 22-24 do): no dynamic-size export."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 48, 3, padding=1)
        self.shuffle = torch.nn.PixelShuffle(4)

    def forward(self, x):
        h, w = x.shape[-2:]
        pooled = torch.nn.functional.adaptive_max_pool2d(x, (h // 8, w // 8))
        gate = torch.nn.functional.interpolate(pooled, size=(h, w), mode="nearest")
        return self.shuffle(self.conv(x * torch.sigmoid(gate)))


def test_a_size_dependent_model_exports_for_one_size(tmp_path):
    import onnx

    torch.manual_seed(0)
    model, images = WindowPool().eval(), example_images(limit=2)
    with pytest.raises(UserError, match=r"cannot be exported to ONNX by the torchscript exporter .*try --size HxW"):
        export_onnx(model, tmp_path / "w.onnx", images, data_range=1.0)
    assert list(tmp_path.iterdir()) == []
    report = export_onnx(model, tmp_path / "w.onnx", images, data_range=1.0, size=(48, 40))
    assert report["input_size"] == "48x40" and report["output"].startswith("sr: float32 (1, 3, 192, 160)")
    assert report["max_abs_diff"] <= 1e-3 and len(report["images"]) == 2
    dims = onnx.load(str(tmp_path / "w.onnx")).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [1, 3, 48, 40]
    with pytest.raises(UserError, match=r"--size 80x80: check image astronaut is only 64x64 \(LR\)"):
        export_onnx(model, tmp_path / "x.onnx", images, data_range=1.0, size=(80, 80))


@pytest.mark.skipif(not backends_module.is_installed("onnxscript"), reason="onnxscript not installed")
def test_the_dynamo_exporter(small_model, tmp_path):
    report = export_onnx(small_model, tmp_path / "d.onnx", example_images(limit=1), exporter="dynamo", data_range=255.0)
    assert report["exporter"] == "dynamo" and report["opset"] >= 18 and report["input_size"] == "dynamic"


def test_a_runtime_that_cannot_run_the_file_is_a_check_that_fails(small_model, tmp_path, monkeypatch):
    from slimrlfn.deploy import onnx as onnx_module

    def broken_runner(path, runtime):
        raise RuntimeError("Exception from plugin.cpp:\n-- Conversion is failed for: Conv-18")

    monkeypatch.setattr(onnx_module, "_onnx_runner", broken_runner)
    with pytest.raises(UserError, match=r"onnxruntime: cannot run it \(RuntimeError: -- Conversion is failed for: Conv-18\)"):
        export_onnx(small_model, tmp_path / "b.onnx", example_images(limit=1), data_range=255.0)
    assert list(tmp_path.iterdir()) == []


#: How each 2024 entry exports (measured): most with dynamic H and W by the TorchScript exporter; 22-24 pool
#: adaptively to H/8 x W/8 and export for one size; LKFN's FFTs need the dynamo exporter, whose ONNX Runtime
#: output is 3.3e-3 from eager on Set5 (and OpenVINO has no converter for its Conv-18): a looser tolerance.
# 1 and 38: 1.1-1.3e-3 from eager on an AVX2-only AMD EPYC (2026-12-02; under 1e-3 on the machines before it): the
# fp32 kernels' summation order, the same on ONNX Runtime and OpenVINO; their PSNR stays equal to 1e-5 dB.
EXPORT_2024 = {1: dict(tolerance=2e-3), 3: dict(exporter="dynamo", tolerance=5e-3), 22: dict(size=(48, 48)),
               23: dict(size=(48, 48)), 24: dict(size=(48, 48), exporter="dynamo"), 38: dict(tolerance=2e-3)}


@pytest.mark.parametrize("model_id", sorted(LOADING_2024))
def test_every_2024_entry_exports(esr_repo, set5_dir, model_id, tmp_path):
    spec = resolve_model(challenge_repo=esr_repo, model_id=model_id)
    options = EXPORT_2024.get(model_id, {})
    if options.get("exporter") == "dynamo" and not backends_module.is_installed("onnxscript"):
        pytest.skip("onnxscript not installed")
    report = export_onnx(spec.model, tmp_path / f"{model_id}.onnx", example_images(set5_dir, limit=5),
                         data_range=spec.data_range, **options)
    assert report["max_abs_diff"] <= options.get("tolerance", 1e-3) and report["psnr_diff_db"] <= 1e-3
    assert len(report["images"]) == 5 and 25 < report["psnr_onnx"] < 35
