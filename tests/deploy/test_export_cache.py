"""The ONNX export cache: a hit is the same file, new weights or code are a new one, a broken file is renewed."""
from __future__ import annotations

import os

import pytest
import torch

from slimrlfn.arch.config import build_model
from slimrlfn.deploy import export_cache
from slimrlfn.deploy.backends import build_backend, is_installed
from slimrlfn.deploy.export_cache import cached_onnx, export_digest, load_cached_onnx

pytestmark = pytest.mark.skipif(not is_installed("onnx"), reason="onnx not installed")
CPU = torch.device("cpu")


def _model(seed: int = 0):
    torch.manual_seed(seed)
    return build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}).eval()


def test_a_second_export_of_the_same_model_is_a_hit(tmp_path):
    first, state = cached_onnx(_model(), tmp_path / "scratch", folder=tmp_path / "cache", data_range=255.0)
    again, state_again = cached_onnx(_model(), tmp_path / "scratch", folder=tmp_path / "cache", data_range=255.0)
    assert (state, state_again) == ("miss", "hit") and first == again
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [first.name]  # no staged file left behind


def test_new_weights_settings_or_exporting_code_change_the_key(monkeypatch):
    base = export_digest(_model(0), data_range=255.0)
    assert export_digest(_model(1), data_range=255.0) != base  # the weights are baked into the file
    assert export_digest(_model(0), data_range=1.0) != base
    real = export_cache.package_version
    monkeypatch.setattr(export_cache, "package_version", lambda p: "9.9" if p == "onnx" else real(p))
    assert export_digest(_model(0), data_range=255.0) != base


def test_an_unwritable_folder_exports_to_the_scratch_folder(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    path, state = cached_onnx(_model(), tmp_path, folder=blocker / "cache", data_range=255.0)
    assert state == "off" and path == tmp_path / "model.onnx" and path.is_file()


def test_a_kept_file_the_runtime_cannot_read_is_exported_again(tmp_path):
    import onnx

    path, _ = cached_onnx(_model(), tmp_path, folder=tmp_path / "cache", data_range=255.0)
    path.write_bytes(b"truncated")
    loaded, state = load_cached_onnx(_model(), tmp_path, onnx.load, folder=tmp_path / "cache", data_range=255.0)
    assert state == "renewed" and len(loaded.graph.node) > 0
    with pytest.raises(Exception):  # an error on a fresh export is the caller's to see
        load_cached_onnx(_model(), tmp_path, lambda p: (_ for _ in ()).throw(RuntimeError("bad")),
                         folder=tmp_path / "cache2", data_range=255.0)


@pytest.mark.skipif(not is_installed("openvino"), reason="openvino not installed")
def test_the_openvino_backend_reads_its_second_export_from_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SLIMRLFN_CACHE_DIR", str(tmp_path))
    example = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 255
    first = build_backend("openvino", _model(), CPU, example=example, data_range=255.0)
    second = build_backend("openvino", _model(), CPU, example=example, data_range=255.0)
    assert first.details["export_cache"] == "miss" and second.details["export_cache"] == "hit"
    assert os.listdir(tmp_path / "onnx") and second.max_abs_diff <= 1e-3
    assert torch.equal(first(example), second(example))
