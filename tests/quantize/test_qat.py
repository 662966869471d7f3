"""Quantization-aware fine-tuning: the IR it writes runs behind the PSNR gate, only for its own fp32 model, and an
interrupted run resumes to the same weights as a straight one."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.pairs import write_pairs
from slimrlfn.deploy.backends import build_backend, is_installed
from slimrlfn.deploy.int8 import QAT_IR, QAT_RECORD, psnr_drop
from slimrlfn.quantize.qat import RUN_FILE, STATE_FILE, QatSettings, run_qat
from tests.helpers import textured_image, tiny_slimrlfn

CPU = torch.device("cpu")
pytestmark = pytest.mark.skipif(not (is_installed("nncf") and is_installed("openvino")),
                                reason="nncf / openvino not installed")
SETTINGS = QatSettings(iterations=4, batch_size=2, lr_patch=16, save_every=2)




@pytest.fixture(scope="module")
def finished(photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("qat") / "run"
    return out, run_qat(tiny_slimrlfn(), [photos], out, SETTINGS, calibration=photos, source="tiny", progress=False, data_range=255.0)


def _pairs():
    return [{"lr": imresize_matlab(hr, 0.25), "hr": hr} for hr in (textured_image(96, 112, seed=s) for s in (5, 6))]


def test_the_run_writes_an_ir_that_the_gate_accepts_or_refuses_with_its_measured_drop(finished):
    out, record = finished
    assert (out / QAT_IR).is_file() and (out / QAT_IR).with_suffix(".bin").is_file()
    assert json.loads((out / QAT_RECORD).read_text()) == record
    assert record["iterations"] == 4 and record["settings"]["iterations"] == 4 and record["source"] == "tiny"
    model = tiny_slimrlfn()
    int8 = build_backend("openvino_int8", model, CPU, check=False, int8_model=str(out), data_range=255.0)
    assert int8.details["int8_cache"] == "qat" and int8.details["qat_iterations"] == 4
    drop = psnr_drop(int8, model, _pairs(), CPU, data_range=255.0)
    assert drop["int8_db"] != drop["fp32_db"]  # really int8: not the fp32 graph
    with pytest.raises(UserError, match=rf"PSNR drop {drop['drop_db']:.3f} dB .* exceeds the gate"):
        build_backend("openvino_int8", model, CPU, check_pairs=_pairs(), max_psnr_drop_db=drop["drop_db"] - 1e-3,
                      int8_model=str(out), data_range=255.0)
    accepted = build_backend("openvino_int8", model, CPU, check_pairs=_pairs(), max_psnr_drop_db=drop["drop_db"] + 1e-3,
                             int8_model=str(out), data_range=255.0)
    assert accepted.details["psnr_check"]["drop_db"] == pytest.approx(drop["drop_db"])


def test_the_ir_of_one_model_is_refused_for_another(finished):
    out, _ = finished
    with pytest.raises(UserError, match="--int8_model .*made from another fp32 model"):
        build_backend("openvino_int8", tiny_slimrlfn(seed=1), CPU, check=False, int8_model=str(out), data_range=255.0)


def test_a_finished_run_is_returned_as_it_is(finished, photos):
    out, record = finished
    before = (out / STATE_FILE).stat().st_mtime_ns
    assert run_qat(tiny_slimrlfn(), [photos], out, SETTINGS, calibration=photos, progress=False, data_range=255.0) == record
    assert (out / STATE_FILE).stat().st_mtime_ns == before


def test_an_interrupted_run_resumes_to_the_weights_of_a_straight_run(finished, photos, tmp_path):
    out, _ = finished

    def interrupt(done):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_qat(tiny_slimrlfn(), [photos], tmp_path / "run", SETTINGS, calibration=photos, progress=False, on_save=interrupt, data_range=255.0)
    assert not (tmp_path / "run" / QAT_RECORD).exists()
    assert torch.load(tmp_path / "run" / STATE_FILE, weights_only=True)["done"] == 2
    with pytest.raises(UserError, match=r"--out .* other settings \(lr\)"):
        run_qat(tiny_slimrlfn(), [photos], tmp_path / "run", QatSettings(4, None, 1e-3, 2, 16, save_every=2),
                calibration=photos, progress=False, data_range=255.0)
    with pytest.raises(UserError, match="another fp32 model"):
        run_qat(tiny_slimrlfn(seed=1), [photos], tmp_path / "run", SETTINGS, calibration=photos, progress=False, data_range=255.0)
    for name, damage, needle in (  # a damaged or foreign run state: one line naming the file, nothing unpickled
            ("truncated-run", lambda d: (d / RUN_FILE).write_text((d / RUN_FILE).read_text()[:40]),
             f"QAT run record .*{RUN_FILE}: not JSON"),
            ("truncated-state", lambda d: (d / STATE_FILE).write_bytes((d / STATE_FILE).read_bytes()[:100]),
             "cannot be read as weights only"),
            ("foreign-state", lambda d: torch.save({"model": {}, "done": "x"}, d / STATE_FILE),
             "is not a QAT state .*optimizer")):
        damaged = tmp_path / name
        shutil.copytree(tmp_path / "run", damaged)
        damage(damaged)
        with pytest.raises(UserError, match=needle):
            run_qat(tiny_slimrlfn(), [photos], damaged, SETTINGS, calibration=photos, progress=False, data_range=255.0)
    resumed = run_qat(tiny_slimrlfn(), [photos], tmp_path / "run", SETTINGS, calibration=photos, progress=False, data_range=255.0)
    assert resumed["iterations"] == 4
    straight = torch.load(out / STATE_FILE, weights_only=True)["model"]
    again = torch.load(tmp_path / "run" / STATE_FILE, weights_only=True)["model"]
    assert straight.keys() == again.keys()
    for name in straight:
        assert torch.equal(straight[name], again[name]), name


def test_eval_runs_the_qat_ir_of_a_checkpoint_behind_the_gate(finished, tmp_path, capsys):
    out, _ = finished
    checkpoint = save_checkpoint(tiny_slimrlfn(), tmp_path / "tiny.pth")
    write_pairs([(f"p{s}", textured_image(96, 112, seed=s)) for s in (5, 6)], tmp_path / "pairs", progress=False)
    args = ["eval", "--checkpoint", str(checkpoint), "--data_dir", str(tmp_path / "pairs"), "--no_images",
            "--backend", "openvino_int8", "--int8_model", str(out)]
    assert main(args + ["--save_dir", str(tmp_path / "a"), "--int8_max_drop", "100"]) == 0
    entry = next(iter(json.loads((tmp_path / "a" / "results.json").read_text()).values()))
    assert entry["backend_info"]["backend"] == "openvino_int8"
    assert main(args + ["--save_dir", str(tmp_path / "b"), "--int8_max_drop", "-1"]) == 2
    assert "--int8_max_drop" in capsys.readouterr().err


def test_a_second_qat_run_into_the_same_output_is_refused_at_once(tmp_path):
    from slimrlfn.core.errors import UserError
    from slimrlfn.core.locks import output_lock
    from slimrlfn.quantize.qat import run_qat
    from tests.helpers import tiny_slimrlfn

    with output_lock(tmp_path / "q", "--out"):
        with pytest.raises(UserError, match="--out .*q: another run is writing there right now"):
            run_qat(tiny_slimrlfn(), [tmp_path], tmp_path / "q", data_range=255.0)
