"""The parent's checks before a timing worker starts (slimrlfn.timing.preflight): models run once on a small real
input, data fits every model; a failure is one UserError line and no worker and no file."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.arch.ref import resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.data.pairs import find_pairs, write_pairs
from slimrlfn.timing import study
from slimrlfn.timing.preflight import check_data, check_model
from tests.helpers import textured_image


@pytest.fixture
def tiny_spec(tmp_path):
    torch.manual_seed(0)
    return resolve_model(checkpoint=save_checkpoint(build_model({"arch": "slimrlfn", "feature_channels": 8,
                                                                 "num_blocks": 1}), tmp_path / "tiny.pth"))


def test_a_working_model_and_fitting_data_pass(tiny_spec, tiny_pairs):
    pairs = check_data([tiny_spec], str(tiny_pairs), "valid")
    assert [p.name for p in pairs] == [p.name for p in find_pairs(tiny_pairs)]
    check_model(tiny_spec, pairs)
    check_model(tiny_spec, [])  # the example image without data


def test_an_image_smaller_than_the_model_takes_is_named(tiny_spec, tmp_path):
    write_pairs([("big", textured_image(96, 96, 0)), ("small", textured_image(40, 40, 1))], tmp_path / "d",
                progress=False)
    with pytest.raises(UserError, match=r"LR image .*smallx4.png: 10x10 is smaller than the 15x15"):
        check_data([tiny_spec], str(tmp_path / "d"), "valid")


def test_non_finite_and_misshapen_outputs_are_refused(tiny_spec, tiny_pairs):
    with torch.no_grad():
        next(tiny_spec.model.parameters()).fill_(float("inf"))
    with pytest.raises(UserError, match="NaN or inf"):
        check_model(tiny_spec, find_pairs(tiny_pairs))


def test_a_model_of_the_wrong_scale_is_refused(tiny_spec, tiny_pairs):
    tiny_spec.contract = dataclasses.replace(tiny_spec.contract, scale=2)  # the model is x4: twice what it says
    with pytest.raises(UserError, match=r"gives \(1, 3, 96, 80\) for a \(1, 3, 24, 20\) input; expected \(1, 3, 48, 40\) \(x2\)"):
        check_model(tiny_spec, find_pairs(tiny_pairs))


def test_no_worker_starts_when_a_check_fails(tiny_spec, tiny_pairs, tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(study, "run_subprocess", lambda job, emit: started.append(job))
    with torch.no_grad():
        next(tiny_spec.model.parameters()).fill_(float("nan"))
    with pytest.raises(UserError, match="NaN or inf"):
        study.run_study([tiny_spec], "separate", 1, "ntire", tiny_pairs, "cpu", out=tmp_path / "t.json",
                        progress=False)
    assert started == [] and not (tmp_path / "t.json").exists()
