"""Inference backends: resolution, one-line errors, exactness against eager, refusal, eval/time plumbing."""
from __future__ import annotations

import sys

import pytest
import torch

from slimrlfn.arch.config import build_model
from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.arch.contract import uint8_to_tensor
from slimrlfn.deploy import backends as backends_module
from slimrlfn.deploy.backends import available_backends, build_backend, resolve_backend
from tests.helpers import textured_image

CPU = torch.device("cpu")
needs_onnxruntime = pytest.mark.skipif(not backends_module.is_installed("onnxruntime"), reason="onnxruntime not installed")
needs_openvino = pytest.mark.skipif(not backends_module.is_installed("openvino"), reason="openvino not installed")


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return build_model({"arch": "slimrlfn", "feature_channels": 12, "num_blocks": 2}).eval()


@pytest.fixture(scope="module")
def lr_image():
    return uint8_to_tensor(textured_image(40, 48, seed=5), CPU, 255.0)


def _scale_tolerance(reference: torch.Tensor) -> float:
    """fp32 reordering noise for a random-weight model: relative to its output's magnitude."""
    return 1e-5 * float(reference.abs().max()) + 1e-3


def test_unknown_backend_is_one_line():
    with pytest.raises(UserError, match="expected one of"):
        resolve_backend("tensorflow", CPU)


@pytest.mark.parametrize("name", ["fp16", "cuda_graphs", "tensorrt"])
def test_cuda_only_backends_refuse_the_cpu(name):
    with pytest.raises(UserError, match="needs a CUDA device"):
        resolve_backend(name, CPU)


def test_missing_package_gives_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(UserError, match=r"'openvino' is not installed \(pip install -e \.\[deploy\]\)"):
        resolve_backend("openvino", CPU)


def test_auto_picks_openvino_when_installed_else_channels_last(monkeypatch):
    monkeypatch.setattr(backends_module, "is_installed", lambda module: True)
    assert resolve_backend("auto", CPU) == "openvino"
    monkeypatch.setattr(backends_module, "is_installed", lambda module: module != "openvino")
    assert resolve_backend("auto", CPU) == "channels_last"
    assert "openvino" not in available_backends(CPU)


@pytest.mark.parametrize("name", ["eager", "channels_last",
                                  pytest.param("onnxruntime", marks=needs_onnxruntime),
                                  pytest.param("openvino", marks=needs_openvino)])
def test_backend_matches_eager_and_leaves_the_model_alone(name, small_model, lr_image):
    before = {k: v.clone() for k, v in small_model.state_dict().items()}
    with torch.no_grad():
        reference = small_model(lr_image)
    backend = build_backend(name, small_model, CPU, example=lr_image, tolerance=_scale_tolerance(reference),
                            measure_all=True, data_range=255.0)
    assert backend.name == name and backend.setup_s >= 0
    out = backend(lr_image)
    assert out.shape == reference.shape == (1, 3, 160, 192)
    assert out.dtype == torch.float32
    assert float((out - reference).abs().max()) <= _scale_tolerance(reference)
    assert backend.max_abs_diff <= _scale_tolerance(reference)
    other = uint8_to_tensor(textured_image(36, 52, seed=6), CPU, 255.0)  # another size: dynamic H and W
    with torch.no_grad():
        assert float((backend(other) - small_model(other)).abs().max()) <= _scale_tolerance(reference)
    assert all(torch.equal(before[k], v) for k, v in small_model.state_dict().items())
    assert small_model.conv_1.weight.is_contiguous()  # channels_last went to a copy


def test_compile_backend_matches_eager(small_model, lr_image):
    with torch.no_grad():
        reference = small_model(lr_image)
    backend = build_backend("compile", small_model, CPU, example=lr_image, tolerance=_scale_tolerance(reference), data_range=255.0)
    assert backend.max_abs_diff is not None and backend.max_abs_diff <= _scale_tolerance(reference)


@needs_onnxruntime
def test_inexact_export_is_refused_with_the_difference(small_model, lr_image):
    with pytest.raises(UserError, match=r"--backend onnxruntime: not exact, refused: max abs difference to eager "
                                        r"[0-9.e+-]+ on the \[0, 255\] output \(tolerance 1e-12\)"):
        build_backend("onnxruntime", small_model, CPU, example=lr_image, tolerance=1e-12, data_range=255.0)


@needs_openvino
def test_official_models_are_exact_in_openvino(official_zoo, set5_dir):
    from slimrlfn.arch.zoo import load_zoo_model
    from slimrlfn.data.images import read_image

    lr = uint8_to_tensor(read_image(set5_dir / "LR_bicubic" / "X4" / "butterflyx4.png"), CPU, 255.0)
    for name in ("rlfn", "slimrlfn", "slimrlfn_prune"):
        backend = build_backend("openvino", load_zoo_model(name)[0], CPU, example=lr, data_range=255.0)  # default tolerance 1e-3
        assert backend.max_abs_diff <= 1e-3, name


@needs_onnxruntime
def test_eval_backend_gives_the_eager_psnr(tiny_pairs, tmp_path, small_model, capsys):
    from slimrlfn.arch.checkpoints import save_checkpoint

    checkpoint = save_checkpoint(small_model, tmp_path / "small.pth")
    entries = {}
    for backend in ("eager", "onnxruntime"):
        code = main(["eval", "--checkpoint", str(checkpoint), "--data_dir", str(tiny_pairs), "--save_dir",
                     str(tmp_path / backend), "--backend", backend, "--tolerance", "1", "--no_images"])
        assert code == 0, capsys.readouterr().err
        import json

        entries[backend] = json.loads((tmp_path / backend / "results.json").read_text())["small"]
    assert entries["onnxruntime"]["backend_info"]["backend"] == "onnxruntime"
    assert entries["eager"]["backend_info"]["backend"] == "eager"
    assert abs(entries["onnxruntime"]["valid_ave_psnr"] - entries["eager"]["valid_ave_psnr"]) <= 1e-3


def test_eval_unknown_backend_exits_2_with_one_line(tiny_pairs, tmp_path, capsys):
    code = main(["eval", "--model", "slimrlfn", "--data_dir", str(tiny_pairs), "--backend", "nope"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--backend" in err[0]


def test_time_refuses_gpu_backend_on_cpu(capsys):
    code = main(["time", "--models", "slimrlfn", "--protocol", "micro", "--device", "cpu", "--backend", "cuda_graphs"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["slimrlfn: error: --backend cuda_graphs: needs a CUDA device, but the device is cpu"]


@needs_openvino
def test_timing_study_records_backend_and_refuses_inexact(tmp_path, small_model, monkeypatch):
    from slimrlfn.arch.checkpoints import save_checkpoint
    from slimrlfn.timing.study import run_study

    checkpoint = str(save_checkpoint(small_model, tmp_path / "small.pth"))
    kwargs = dict(scenario="consecutive", runs=2, protocol="micro", device="cpu", iters=2, sizes=[[32, 32]],
                  isolate=False, progress=False, backend="openvino")
    study = run_study([checkpoint], out=tmp_path / "ok.json", **kwargs)
    assert study["settings"]["backend"] == "openvino"
    assert [r["status"] for r in study["records"]] == ["ok", "ok"]
    info = study["records"][0]["device_info"]["backend_info"]
    assert info["backend"] == "openvino" and info["setup_s"] > 0 and info["max_abs_diff_to_eager"] is not None

    monkeypatch.setattr("slimrlfn.deploy.backends.DEFAULT_TOLERANCE", 0.0)
    study = run_study([checkpoint], out=tmp_path / "refused.json", **kwargs)
    assert [r["status"] for r in study["records"]] == ["error", "error"]
    assert all("not exact, refused" in r["error"] for r in study["records"])


def test_missing_onnx_is_one_line_for_export_and_the_onnx_paths(monkeypatch, small_model, tmp_path):
    from slimrlfn.deploy.onnx import onnx_to_file

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(UserError, match=r"'onnx' is not installed \(pip install -e \.\[deploy\]\)"):
        onnx_to_file(small_model, tmp_path / "m.onnx", data_range=255.0)
    with pytest.raises(UserError, match="'onnx' is not installed"):
        resolve_backend("onnxruntime", CPU)
    monkeypatch.setattr(backends_module, "is_installed", lambda module: module != "onnx")
    assert resolve_backend("auto", CPU) == "channels_last"


def test_a_package_that_fails_to_load_is_one_line(monkeypatch):
    import importlib

    real = importlib.import_module

    def broken(name, *args):
        if name == "openvino":
            raise OSError("libopenvino.so: cannot open shared object file")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(UserError, match="installed but does not load .*libopenvino.so"):
        backends_module.require_module("openvino", "--backend openvino")


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


@needs_cuda
def test_fp16_reports_its_difference_and_is_not_refused(small_model, lr_image):
    cuda = torch.device("cuda")
    backend = build_backend("fp16", small_model, cuda, example=lr_image.to(cuda), measure_all=True, data_range=255.0)
    assert backend(lr_image.to(cuda)).dtype == torch.float32
    assert backend.max_abs_diff is not None and backend.max_abs_diff > 0


@needs_cuda
def test_cuda_graphs_equal_eager_on_two_shapes(small_model):
    cuda = torch.device("cuda")
    torch.backends.cudnn.allow_tf32 = False
    backend = build_backend("cuda_graphs", small_model, cuda, check=False, data_range=255.0)
    eager = __import__("copy").deepcopy(small_model).to(cuda)
    for h, w in ((32, 40), (36, 28), (32, 40)):
        x = uint8_to_tensor(textured_image(h, w, seed=h), cuda, 255.0)
        with torch.no_grad():
            reference = eager(x)
        assert float((backend(x) - reference).abs().max()) <= _scale_tolerance(reference)


def test_auto_takes_channels_last_for_a_small_run_and_openvino_for_a_large_one(monkeypatch):
    monkeypatch.setattr(backends_module, "is_installed", lambda module: True)
    small = backends_module.AUTO_OPENVINO_MIN_LR_PIXELS - 1
    assert resolve_backend("auto", CPU, lr_pixels=small) == "channels_last"
    assert resolve_backend("auto", CPU, lr_pixels=small + 1) == "openvino"
    assert resolve_backend("auto", CPU) == "openvino"  # unknown size: a timing study's many forwards
    assert resolve_backend("auto", torch.device("cuda"), lr_pixels=small) == "eager"
    assert resolve_backend("openvino", CPU, lr_pixels=1) == "openvino"  # asked for by name: always that path
