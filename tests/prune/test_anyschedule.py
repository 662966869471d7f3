"""slimrlfn.prune.anyschedule and ``slimrlfn prune`` on any SR network: steps measured and saved as derived
checkpoints, resumed after the last finished step, other settings refused, the result evaluated."""
from __future__ import annotations

import json

import pytest

from slimrlfn.arch.source import resolve_model
from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.prune.anyschedule import AnyPruneSettings, prune_any_iteratively
from tests.helpers import write_user_model


@pytest.fixture
def user(tmp_path):
    return write_user_model(tmp_path / "mine" / "tiny_sr.py")


def _settings(out, hr_dir, val_dir, **changes):
    base = dict(out_dir=str(out), steps=2, fraction=0.25, val_dirs=[str(val_dir)], hr_dirs=[str(hr_dir)],
                finetune_iterations=2, batch_size=2, lr_patch=16, latency_size=16, latency_runs=2, device="cpu",
                progress=False)
    return AnyPruneSettings(**{**base, **changes})


def test_steps_are_measured_saved_and_resumed(user, hr_dir, val_dir, tmp_path):
    spec = resolve_model(model=f"{user}:TinySR", kwargs={"channels": 16})
    out = tmp_path / "run"
    lines = []
    run = prune_any_iteratively(spec, _settings(out, hr_dir, val_dir), log=lines.append)
    assert [s["step"] for s in run["steps"]] == [0, 1, 2] and len(lines) == 2
    assert run["units"] == {"head": {"width": 16, "block": 1}} and "tail" in run["left_alone"]
    widths = [16, 12, 9]
    assert [s["params_m"] for s in run["steps"]] == [(3 * 9 * w + w + w * 9 * 48 + 48) / 1e6 for w in widths]
    assert all(set(s["psnr"]) == {"val"} and s["speedup"] > 0 for s in run["steps"])
    assert resolve_model(checkpoint=out / "step_02.pth").model.head.out_channels == 9
    lines.clear()
    run = prune_any_iteratively(spec, _settings(out, hr_dir, val_dir, steps=3), log=lines.append)
    assert lines[0] == f"resuming {out} after step 2" and [s["step"] for s in run["steps"]] == [0, 1, 2, 3]
    assert json.loads((out / "run.json").read_text()) == json.loads(json.dumps(run))  # what was returned is on disk
    with pytest.raises(UserError, match="holds a run with other settings"):
        prune_any_iteratively(spec, _settings(out, hr_dir, val_dir, fraction=0.5))


@pytest.mark.parametrize("change, message", [
    (dict(steps=0), "--steps 0"), (dict(fraction=1.0), "--fraction 1.0"), (dict(val_dirs=[]), "--val_dir"),
    (dict(hr_dirs=[]), "--hr_dir: fine-tuning needs HR images"),
])
def test_bad_settings_are_one_line(user, hr_dir, val_dir, tmp_path, change, message):
    spec = resolve_model(model=f"{user}:TinySR")
    with pytest.raises(UserError, match=message):
        prune_any_iteratively(spec, _settings(tmp_path / "r", hr_dir, val_dir, **change))
    assert not (tmp_path / "r").exists()


def test_the_prune_command_on_a_class_then_eval(user, hr_dir, val_dir, tiny_pairs, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["prune", "--model", f"{user}:TinySR", "--steps", "1", "--fraction", "0.25", "--hr_dir", str(hr_dir),
                 "--val_dir", str(val_dir), "--finetune_iterations", "1", "--batch_size", "2", "--lr_patch", "16",
                 "--latency_size", "16", "--latency_runs", "1", "--device", "cpu", "--out_dir", str(out),
                 "--no_progress"]) == 0
    assert "final model (step 1" in capsys.readouterr().out
    assert main(["eval", "--checkpoint", str(out / "step_01.pth"), "--data_dir", str(tiny_pairs), "--save_dir",
                 str(tmp_path / "e"), "--device", "cpu", "--no_images"]) == 0
    entry = json.loads((tmp_path / "e" / "results.json").read_text())["TinySR-pruned1"]
    assert entry["kind"] == "derived" and entry["num_parameters"] < (3 * 9 * 8 + 8 + 8 * 9 * 48 + 48) / 1e6
    assert main(["prune", "--model", "slimrlfn", "--kwargs", "{}", "--out_dir", str(tmp_path / "x")]) == 2
    assert "--kwargs: only for any other SR network" in capsys.readouterr().err
