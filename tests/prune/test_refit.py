"""slimrlfn.prune.refit: the least-squares refit of every convolution after a cut, and its place in the schedule."""
from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn as nn

from slimrlfn.arch.config import build_model, config_of
from slimrlfn.core.errors import UserError
from slimrlfn.prune.groups import ChannelGroups, mask_model, prune_model
from slimrlfn.prune.records import load_records
from slimrlfn.prune.refit import refit_convolutions, refit_pruned
from slimrlfn.prune.schedule import prune_iteratively
from tests.prune.test_schedule import TINY_SLIM, settings, start_checkpoint  # noqa: F401 (a fixture)


CONVS_OF_TINY_SLIM = 19  # conv_1, 8 per block (c1_r c2_r c3_r c5, ESA conv1-4) x 2, conv_2, the upsampler


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(TINY_SLIM).eval()


def batches(count: int = 4, side: int = 32, seed: int = 1):
    """LR batches (2, 3, side, side) in [0, 255]; side 32 leaves the ESA a 3x3 pooled map (20 leaves 1x1, which a
    refit cannot generalise from)."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(2, 3, side, side, generator=generator) * 255 for _ in range(count)]


def removal_of(model: nn.Module, unit_counts):
    """The first ``count`` channels of every subgroup of each unit."""
    groups = ChannelGroups(copy.deepcopy(model))
    return {unit: [list(range(count)) for _ in groups.subgroups[unit]] for unit, count in unit_counts.items()}


def output_error(model: nn.Module, reference: nn.Module, inputs) -> float:
    with torch.no_grad():
        return sum(float(((model(x) - reference(x)) ** 2).mean()) for x in inputs) / len(inputs)


def test_refit_of_an_uncut_copy_changes_nothing():
    model = tiny_model()
    student = copy.deepcopy(model)
    report = refit_convolutions(student, model, batches(), ridge=1e-9)
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    assert sorted(report) == sorted(convs)
    assert report["conv_1"] == {"before": 0.0, "after": 0.0}  # the same input as the teacher: nothing to gain, kept
    assert all(r["after"] <= r["before"] < 1e-8 for r in report.values())  # float rounding only
    for (name, a), (_, b) in zip(model.state_dict().items(), student.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-3), name  # the ridge moves a bias by ~1e-4 at most


@pytest.mark.parametrize("cut", [{"b1.c1_r": 3, "b2.c2_r": 2}, {"features": 3}, {"b1.esa": 2, "b2.c1_r": 4}])
def test_refit_brings_the_cut_model_closer_to_the_uncut_one(cut):
    model = tiny_model()
    removal = removal_of(model, cut)
    plain = prune_model(model, removal)
    fitted, report = refit_pruned(model, removal, batches(6))
    assert config_of(fitted) == config_of(plain)
    held_out = batches(3, side=40, seed=7)  # another size than the refit saw
    assert output_error(fitted, model, held_out) < 0.8 * output_error(plain, model, held_out)
    assert all(r["after"] <= r["before"] for r in report.values())  # a worse fit is not kept


def test_the_cut_after_the_refit_is_exact():
    """The refit runs on the masked network; the smaller model it returns computes the same (removed outputs stay 0)."""
    model = tiny_model()
    removal = removal_of(model, {"b1.c2_r": 3, "features": 2})
    masked = mask_model(model, removal)
    refit_convolutions(masked, model, batches())
    fitted = prune_model(masked, removal)
    x = batches(1, side=24, seed=3)[0]
    with torch.no_grad():
        assert torch.allclose(fitted(x), masked(x), atol=1e-3)
    assert model.block_list[0].c1_r.weight.shape[0] == TINY_SLIM["prune_channels"][0]  # the input model is untouched


def test_unknown_convolution_names_are_refused():
    model = tiny_model()
    with pytest.raises(ValueError, match="not refittable convolutions of the model: \\['nope'\\]"):
        refit_convolutions(copy.deepcopy(model), model, batches(1), names=["nope"])


def test_schedule_records_the_plain_cut_and_the_refit(start_checkpoint, tiny_pairs, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    lines = []
    prune_iteratively(settings(start_checkpoint, tiny_pairs, out, refit_patches=6, finetune_iterations=0,
                               channels_per_step=2, max_steps=1), log=lines.append)
    step = load_records(out)[1]
    assert step["refit"]["patches"] == 6 and step["refit"]["layers"] == CONVS_OF_TINY_SLIM and step["refit"]["seconds"] > 0
    assert step["refit"]["psnr_cut"] != step["psnr_before"]
    assert f"cut {step['refit']['psnr_cut']:.3f}, refit {step['psnr_before']:.3f}" in lines[1]
    assert step["psnr_after"] == pytest.approx(step["psnr_before"])  # no fine-tuning: what was validated is kept


def test_a_run_folder_from_before_refit_resumes(start_checkpoint, tiny_pairs, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=1), log=lambda _: None)
    run_file = out / "run.json"
    document = json.loads(run_file.read_text())
    del document["run"]["refit_patches"]  # as a folder written before the setting existed
    run_file.write_text(json.dumps(document))
    summary = prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=2), log=lambda _: None)
    assert summary["steps"] == 2
    with pytest.raises(UserError, match="its refit_patches is 0, this run's 8"):
        prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=3, refit_patches=8), log=lambda _: None)


def test_negative_refit_patches_are_one_line(start_checkpoint, tiny_pairs, tmp_path):  # noqa: F811
    with pytest.raises(UserError, match=r"^--refit_patches -1: expected 0 or more$"):
        prune_iteratively(settings(start_checkpoint, tiny_pairs, tmp_path / "run", refit_patches=-1), log=lambda _: None)
