"""The one pruning run on any SR network (the ``any`` pruner of slimrlfn.prune.pruners): steps measured and saved as
derived checkpoints in the one folder format, resumed after the last finished step, other settings refused, every
criterion, the result evaluated, and a folder of the earlier any-model schedule refused in one line."""
from __future__ import annotations

import json

import pytest
import torch

from slimrlfn.arch.ref import load_model
from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.prune.criteria import CRITERIA
from slimrlfn.prune.records import load_records
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings
from tests.helpers import write_user_model


@pytest.fixture
def user(tmp_path):
    return write_user_model(tmp_path / "mine" / "tiny_sr.py")


@pytest.fixture
def weights(user, tmp_path):
    """TinySR(16)'s weights in a file: a class without one starts from other random weights at each load."""
    torch.manual_seed(0)
    path = tmp_path / "mine" / "tiny16.pth"
    torch.save(load_model({"model": f"{user}:TinySR", "kwargs": {"channels": 16}}).model.state_dict(), path)
    return path


def _settings(user, out, hr_dir, val_dir, **changes):
    weights = user.parent / "tiny16.pth"
    base = dict(model={"model": f"{user}:TinySR", "kwargs": {"channels": 16}, "checkpoint": str(weights)},
                out_dir=str(out), max_steps=2,
                fraction=0.25, min_channels=4, val_dir=str(val_dir), val_dirs=[str(val_dir)], hr_dirs=[str(hr_dir)],
                finetune_iterations=2, batch_size=2, lr_patch=16, latency_size=16, latency_runs=2,
                latency_seconds=0.2, device="cpu", progress=False)
    return PruneSettings(**{**base, **changes})


def _params(width: int) -> float:
    return (3 * 9 * width + width + width * 9 * 48 + 48) / 1e6  # TinySR: head 3->w, tail w->48, shuffle 4


def test_steps_are_measured_saved_and_resumed(user, weights, hr_dir, val_dir, tmp_path):
    out = tmp_path / "run"
    lines = []
    summary = prune_iteratively(_settings(user, out, hr_dir, val_dir), log=lines.append)
    records = load_records(out)
    assert [r["step"] for r in records] == [0, 1, 2] and len(lines) == 4 and summary["pruner"] == "any"
    assert [r["params_m"] for r in records] == [_params(w) for w in (16, 12, 9)]
    assert [r["widths"] for r in records] == [{"head": 16}, {"head": 12}, {"head": 9}]
    assert all(set(r["psnr_sets"]) == {"val"} and r["latency_ratio"] > 0 for r in records)
    run = json.loads((out / "run.json").read_text())
    assert run["pruner"] == "any" and "tail" in run["left_alone"] and run["start_widths"] == {"head": 16}
    assert load_model(str(out / "step_02" / "model.pth")).model.head.out_channels == 9
    final = load_model(str(out / "final.pth"))
    assert final.kind == "derived" and final.model.head.out_channels == 9 and final.data_range == 1.0
    lines.clear()
    prune_iteratively(_settings(user, out, hr_dir, val_dir, max_steps=3), log=lines.append)
    assert lines[0].startswith(f"resuming {out} after step 2") and len(load_records(out)) == 4
    with pytest.raises(UserError, match="holds another run: its fraction is 0.25, this run's 0.5"):
        prune_iteratively(_settings(user, out, hr_dir, val_dir, fraction=0.5, max_steps=4))
    prune_iteratively(_settings(user, out, hr_dir, val_dir, fraction=0.5, max_steps=1, overwrite=True))
    assert [r["widths"] for r in load_records(out)] == [{"head": 16}, {"head": 8}]


@pytest.mark.parametrize("criterion", list(CRITERIA))
def test_every_criterion_prunes_any_model(user, weights, hr_dir, val_dir, tmp_path, criterion):
    out = tmp_path / criterion
    prune_iteratively(_settings(user, out, hr_dir, val_dir, criterion=criterion, max_steps=1, finetune_iterations=0,
                                taylor_batches=1))
    step = load_records(out)[1]
    assert step["criterion"] == criterion and step["widths"] == {"head": 12}
    assert len(step["removed_channels"]["head"][0]) == 4


def test_per_layer_steps_and_a_parameter_target_work_on_any_model(user, weights, hr_dir, val_dir, tmp_path):
    out = tmp_path / "k"
    summary = prune_iteratively(_settings(user, out, hr_dir, val_dir, fraction=None, channels_per_step=3,
                                          max_steps=None, target_params=_params(11), finetune_iterations=0))
    assert summary["stop_reason"] == "target" and [r["widths"]["head"] for r in load_records(out)] == [16, 13, 10]


@pytest.mark.parametrize("change, message", [
    (dict(max_steps=0), "--max_steps 0"), (dict(fraction=1.0), "--fraction 1.0"),
    (dict(fraction=float("nan")), "--fraction nan"), (dict(lr=float("nan")), "--lr nan"),
    (dict(psnr_floor=float("nan")), "--psnr_floor nan"), (dict(val_max_images=0), "--val_max_images 0"),
    (dict(hr_dirs=[]), "--hr_dir: fine-tuning"), (dict(scope=["esa"]), "--scope esa: only for RLFN"),
    (dict(target_shape="slimrlfn_prune"), "--target_shape: only for RLFN"),
    (dict(refit_patches=8), "--refit_patches 8: only for RLFN"),
])
def test_bad_settings_are_one_line(user, weights, hr_dir, val_dir, tmp_path, change, message):
    with pytest.raises(UserError, match=message):
        prune_iteratively(_settings(user, tmp_path / "r", hr_dir, val_dir, **change))
    assert not (tmp_path / "r").exists()


def test_a_folder_of_the_earlier_any_model_schedule_is_refused_in_one_line(user, weights, hr_dir, val_dir, tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"kind": "slimrlfn-prune-any", "identity": {}, "steps": []}))
    with pytest.raises(UserError, match="earlier any-model schedule, which cannot be resumed") as info:
        prune_iteratively(_settings(user, out, hr_dir, val_dir))
    assert "\n" not in str(info.value)


def test_the_prune_command_on_a_class_then_eval(user, hr_dir, val_dir, tiny_pairs, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["prune", "--model", f"{user}:TinySR", "--steps", "1", "--fraction", "0.25", "--hr_dir", str(hr_dir),
                 "--val_dir", str(val_dir), "--finetune_iterations", "1", "--batch_size", "2", "--lr_patch", "16",
                 "--latency_size", "16", "--latency_runs", "1", "--latency_seconds", "0.2", "--device", "cpu",
                 "--out_dir", str(out), "--no_progress"]) == 0
    assert "final model (step 1" in capsys.readouterr().out
    settings = json.loads((out / "summary.json").read_text())["settings"]
    assert settings["min_channels"] == 4 and settings["batch_size"] == 2  # the any pruner's default, the flag given
    assert main(["eval", "--checkpoint", str(out / "step_01" / "model.pth"), "--data_dir", str(tiny_pairs),
                 "--save_dir", str(tmp_path / "e"), "--device", "cpu", "--no_images"]) == 0
    entry = json.loads((tmp_path / "e" / "results.json").read_text())["TinySR-pruned1"]
    assert entry["kind"] == "derived" and entry["num_parameters"] == pytest.approx(_params(6), abs=1e-9)
    assert entry["ref"] == {"kind": "derived", "checkpoint": str(out / "step_01" / "model.pth")}
    assert main(["prune", "--model", "slimrlfn", "--kwargs", "{}", "--out_dir", str(tmp_path / "x")]) == 2
    assert "--kwargs: only for a model class" in capsys.readouterr().err

