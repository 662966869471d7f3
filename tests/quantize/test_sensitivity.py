"""The int8 sensitivity ranking: every inner convolution measured once, ranked by the dB it takes back, the frontier
measured with the top k kept in fp32 (as ``qat --keep_fp32`` then quantizes), and an interrupted ranking resumed."""
from __future__ import annotations

import json

import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.deploy.backends import is_installed
from slimrlfn.deploy.int8 import calibration_inputs, psnr_drop
from slimrlfn.quantize import sensitivity
from slimrlfn.quantize.qat import QatSettings, convolution_names, quantize_for_qat, run_qat
from slimrlfn.quantize.sensitivity import SENSITIVITY_FILE, check_pairs_from_photos, rank_convolutions
from tests.helpers import tiny_slimrlfn

pytestmark = pytest.mark.skipif(not is_installed("nncf"), reason="nncf not installed")




@pytest.fixture(scope="module")
def ranked(photos, tmp_path_factory):
    out = tmp_path_factory.mktemp("sens")
    return out, rank_convolutions(tiny_slimrlfn(), out, photos, top=(1, 2), source="tiny", progress=False, data_range=255.0)


def _quantizers(model) -> int:
    return sum(1 for _, module in model.named_modules() if "Quantizer" in type(module).__name__)


def test_a_kept_convolution_loses_its_quantizers_and_an_unknown_name_is_refused(photos):
    model = tiny_slimrlfn()
    inputs = [torch.from_numpy(a) for a in calibration_inputs(photos, data_range=255.0)]
    names = convolution_names(model)
    assert len(names) > 4
    everything = quantize_for_qat(model, inputs)
    mixed = quantize_for_qat(model, inputs, [names[2]])
    assert _quantizers(mixed) < _quantizers(everything)
    with pytest.raises(UserError, match=r"--keep_fp32 nope/conv2d/0: not a convolution of this model"):
        quantize_for_qat(model, inputs, ["nope/conv2d/0"])


def test_every_inner_convolution_is_measured_and_ranked_by_what_it_takes_back(ranked, photos):
    out, result = ranked
    names = convolution_names(tiny_slimrlfn())
    assert [row["conv"] for row in result["convolutions"]] == names[1:-1]
    for row in result["convolutions"]:
        assert row["gain_db"] == pytest.approx(result["base_drop_db"] - row["drop_db"])
    gains = {row["conv"]: row["gain_db"] for row in result["convolutions"]}
    assert sorted(result["ranking"]) == sorted(names[1:-1])
    assert [gains[n] for n in result["ranking"]] == sorted(gains.values(), reverse=True)
    assert [row["k"] for row in result["frontier"]] == [1, 2]
    assert result["frontier"][1]["keep_fp32"] == result["ranking"][:2]
    assert json.loads((out / SENSITIVITY_FILE).read_text()) == result
    # the frontier's drop is what quantizing with those kept in fp32 gives (deterministic calibration)
    model = tiny_slimrlfn()
    inputs = [torch.from_numpy(a) for a in calibration_inputs(photos, data_range=255.0)]
    fresh = quantize_for_qat(model, inputs, result["ranking"][:2]).eval()
    drop = psnr_drop(fresh, model, check_pairs_from_photos(photos), torch.device("cpu"), data_range=255.0)["drop_db"]
    assert drop == pytest.approx(result["frontier"][1]["drop_db"], abs=1e-6)


def test_an_interrupted_ranking_goes_on_from_what_it_measured(ranked, photos, tmp_path, monkeypatch):
    _, result = ranked
    partial = {k: v for k, v in result.items() if k not in ("ranking",)}
    partial["convolutions"], partial["frontier"] = result["convolutions"][:3], []
    (tmp_path / SENSITIVITY_FILE).write_text(json.dumps(partial))
    calls = []
    real = sensitivity.quantize_for_qat
    monkeypatch.setattr(sensitivity, "quantize_for_qat", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    resumed = rank_convolutions(tiny_slimrlfn(), tmp_path, photos, top=(1, 2), source="tiny", progress=False, data_range=255.0)
    assert len(calls) == len(result["convolutions"]) - 3 + 2  # the rest, then the frontier
    assert [list(keep) for keep in calls[:-2]] == [[row["conv"]] for row in result["convolutions"][3:]]
    for mine, theirs in zip(resumed["convolutions"], result["convolutions"]):
        assert mine["drop_db"] == pytest.approx(theirs["drop_db"], abs=1e-6)
    calls.clear()
    rank_convolutions(tiny_slimrlfn(), tmp_path, photos, top=(1, 2), progress=False, data_range=255.0)
    assert calls == []  # finished: nothing measured again
    rank_convolutions(tiny_slimrlfn(seed=1), tmp_path, photos, top=(1,), progress=False, data_range=255.0)
    assert len(calls) == 1 + len(result["convolutions"]) + 1  # another model: measured from the start


def test_qat_with_kept_convolutions_records_them_and_a_resume_must_match(photos, tmp_path):
    names = convolution_names(tiny_slimrlfn())
    settings = QatSettings(iterations=2, batch_size=2, lr_patch=16, save_every=1, keep_fp32=(names[3],))
    assert settings.identity()["keep_fp32"] == [names[3]]
    assert "keep_fp32" not in QatSettings().identity()
    record = run_qat(tiny_slimrlfn(), [photos], tmp_path / "run", settings, calibration=photos, progress=False, data_range=255.0)
    assert record["settings"]["keep_fp32"] == [names[3]] and names[3] in record["quantization"]
    with pytest.raises(UserError, match=r"other settings \(keep_fp32\)"):
        run_qat(tiny_slimrlfn(), [photos], tmp_path / "run", QatSettings(iterations=2, batch_size=2, lr_patch=16),
                calibration=photos, progress=False, data_range=255.0)


def test_the_command_prints_the_flag_and_writes_the_plot(photos, tmp_path, capsys):
    checkpoint = save_checkpoint(tiny_slimrlfn(), tmp_path / "tiny.pth")
    args = ["int8-sensitivity", "--checkpoint", str(checkpoint), "--calibration", str(photos), "--top", "1",
            "--out", str(tmp_path / "out")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    result = json.loads((tmp_path / "out" / SENSITIVITY_FILE).read_text())
    assert f"--keep_fp32 {result['ranking'][0]}" in printed
    assert (tmp_path / "out" / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    assert main(args[:-2] + ["--check_dir", str(tmp_path / "missing"), "--out", str(tmp_path / "o2")]) == 2
    assert "--check_dir" in capsys.readouterr().err
