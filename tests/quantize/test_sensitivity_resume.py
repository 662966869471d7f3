"""The int8 sensitivity ranking without NNCF: the frontier up to every inner convolution, a resumed run that drops
frontier rows of another ranking, and the drop measured at the model's contract range.

NNCF's parts are fakes here (``convolution_names`` names five convolutions; ``quantize_for_qat`` returns a stand-in
for the quantized model); tests/quantize/test_sensitivity.py runs the real thing."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from slimrlfn.cli import main
from slimrlfn.deploy.int8 import psnr_drop
from slimrlfn.quantize import sensitivity, sensitivity_command
from slimrlfn.quantize.sensitivity import SENSITIVITY_FILE, check_pairs_from_photos, rank_convolutions
from tests.helpers import tiny_slimrlfn, write_user_model

NAMES = ["head/conv2d/0", "a/conv2d/0", "b/conv2d/0", "c/conv2d/0", "tail/conv2d/0"]
BASE_DB = 0.5
GAIN_DB = {"a/conv2d/0": 0.1, "b/conv2d/0": 0.3, "c/conv2d/0": 0.05}  # ranking: b, a, c
RANKING = ["b/conv2d/0", "a/conv2d/0", "c/conv2d/0"]


@pytest.fixture
def fake(monkeypatch):
    """NNCF faked: the drop with ``keep`` in fp32 is BASE_DB minus their gains; every quantization is recorded."""
    seen = SimpleNamespace(keeps=[], inputs_max=[])

    def quantize(model, inputs, keep=(), convolutions=None):
        seen.keeps.append(list(keep))
        seen.inputs_max.append(max(float(x.max()) for x in inputs))
        return SimpleNamespace(keep=list(keep), eval=lambda: None)

    monkeypatch.setattr(sensitivity, "convolution_names", lambda model, example=None: list(NAMES))
    monkeypatch.setattr(sensitivity, "quantize_for_qat", quantize)
    monkeypatch.setattr(sensitivity, "_drop",
                        lambda quantized, model, pairs, data_range: BASE_DB - sum(GAIN_DB[n] for n in quantized.keep))
    return seen


def _rank(photos, out, top=(1, 2, 3)):
    return rank_convolutions(tiny_slimrlfn(), out, photos, top=top, progress=False, data_range=255.0)


def test_the_frontier_goes_up_to_every_inner_convolution_kept_in_fp32(fake, photos, tmp_path):
    """Catches a frontier point left out when k equals the number of inner convolutions."""
    result = _rank(photos, tmp_path, top=(1, 3, 4))  # 4: more than there are, left out
    assert result["ranking"] == RANKING
    assert [(row["k"], row["keep_fp32"]) for row in result["frontier"]] == [(1, RANKING[:1]), (3, RANKING)]
    assert result["frontier"][1]["drop_db"] == pytest.approx(BASE_DB - sum(GAIN_DB.values()))


def test_a_resumed_ranking_measures_again_the_frontier_rows_of_another_ranking(fake, photos, tmp_path):
    """Catches a resumed int8-sensitivity run that keeps frontier rows measured with other convolutions in fp32."""
    first = _rank(photos, tmp_path)
    stale = json.loads((tmp_path / SENSITIVITY_FILE).read_text())
    stale["frontier"][1] = {"k": 2, "keep_fp32": ["a/conv2d/0", "c/conv2d/0"], "drop_db": 9.9}  # another ranking's
    (tmp_path / SENSITIVITY_FILE).write_text(json.dumps(stale))
    fake.keeps.clear()
    resumed = _rank(photos, tmp_path)
    assert fake.keeps == [RANKING[:2]]  # only the stale row is measured again
    assert resumed["frontier"] == first["frontier"]
    assert all(row["keep_fp32"] == resumed["ranking"][:row["k"]] for row in resumed["frontier"])
    assert json.loads((tmp_path / SENSITIVITY_FILE).read_text())["frontier"] == first["frontier"]


class _UnitBicubic(nn.Module):
    """x4 bicubic on [0, 1] images (the contract of a user's class model); a parameter for its weights digest."""

    def __init__(self):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.gain * nn.functional.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)


class _Coarse(nn.Module):
    """A stand-in for a quantized model: the fp32 output rounded to 8 levels of [0, 1]."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return torch.round(self.model(x).clamp(0, 1) * 7) / 7


def test_the_drop_and_the_calibration_are_at_the_model_contract_range(monkeypatch, photos, tmp_path):
    """Catches the drop (or the calibration) of a [0, 1] model measured at data range 255."""
    seen = []

    def quantize(model, inputs, keep=(), convolutions=None):
        seen.append(max(float(x.max()) for x in inputs))
        return _Coarse(model)

    monkeypatch.setattr(sensitivity, "convolution_names", lambda model, example=None: list(NAMES))
    monkeypatch.setattr(sensitivity, "quantize_for_qat", quantize)
    model = _UnitBicubic().eval()
    pairs = check_pairs_from_photos(photos)
    result = rank_convolutions(model, tmp_path, photos, pairs, top=(1,), progress=False, data_range=1.0)
    expected = psnr_drop(_Coarse(model).eval(), model, pairs, torch.device("cpu"), data_range=1.0)["drop_db"]
    assert expected > 1.0  # 8 levels of [0, 1] cost dB
    assert result["base_drop_db"] == pytest.approx(expected, abs=1e-9)
    assert all(0.5 < peak <= 1.0 for peak in seen)  # calibrated on [0, 1] inputs


def test_the_command_ranks_at_the_model_contract_range(photos, tmp_path, monkeypatch, capsys):
    """Catches `slimrlfn int8-sensitivity` passing 255 for a model whose contract is [0, 1]."""
    write_user_model(tmp_path / "nets" / "tiny_sr.py")
    monkeypatch.chdir(tmp_path)
    calls = []

    def fake_rank(model, out, calibration, pairs, *, data_range, top, source):
        calls.append(data_range)
        rows = [{"conv": name, "drop_db": BASE_DB - GAIN_DB[name], "gain_db": GAIN_DB[name]} for name in NAMES[1:-1]]
        return {"base_drop_db": BASE_DB, "check_images": len(pairs), "convolutions": rows, "ranking": RANKING,
                "frontier": [{"k": 1, "keep_fp32": RANKING[:1], "drop_db": 0.2}]}

    monkeypatch.setattr(sensitivity_command, "rank_convolutions", fake_rank)
    assert main(["int8-sensitivity", "--model", "nets/tiny_sr.py:TinySR", "--kwargs", '{"channels": 8}',
                 "--calibration", str(photos), "--top", "1", "--out", str(tmp_path / "s")]) == 0
    assert calls == [1.0]
    assert f"--keep_fp32 {RANKING[0]}" in capsys.readouterr().out
