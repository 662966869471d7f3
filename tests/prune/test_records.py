"""A run folder that holds only a failed start (slimrlfn.prune.records): it does not block a corrected rerun, while a
run with a finished pruning step still refuses other settings."""
from __future__ import annotations

import pytest
import torch

import slimrlfn.prune.schedule as schedule
from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.core.errors import UserError
from slimrlfn.prune.records import holds_only_a_start, load_records
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings

TINY = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1, "prune_channels": [6, 7], "esa_channels": 4}


@pytest.fixture
def start(tmp_path):
    torch.manual_seed(0)
    return str(save_checkpoint(build_model(TINY).eval(), tmp_path / "start.pth"))


def _settings(start, data, out, **overrides):
    values = dict(model=start, out_dir=str(out), val_dir=str(data), hr_dirs=[str(data / "DIV2K_LSDIR_valid_HR")],
                  criterion="l1", scope=["inner"], channels_per_step=1, max_steps=1, finetune_iterations=1,
                  batch_size=1, lr_patch=16, latency_size=16, latency_runs=2, latency_warmup=0,
                  latency_seconds=0.1, device="cpu", progress=False)
    values.update(overrides)
    return PruneSettings(**values)


def test_a_failed_start_does_not_block_the_corrected_rerun(start, tiny_pairs, tmp_path, monkeypatch):
    out = tmp_path / "run"

    def fails(*args, **kwargs):  # the first pruning step fails (say, a bad fine-tuning setting)
        raise UserError("--lr: the first step failed")

    monkeypatch.setattr(schedule, "finetune", fails)
    with pytest.raises(UserError, match="first step failed"):
        prune_iteratively(_settings(start, tiny_pairs, out, lr=5.0), log=lambda _: None)
    assert [r["step"] for r in load_records(out)] == [0] and holds_only_a_start(out)
    monkeypatch.undo()
    summary = prune_iteratively(_settings(start, tiny_pairs, out), log=lambda _: None)  # other settings: accepted
    assert summary["steps"] == 1
    assert [r["step"] for r in load_records(out)] == [0, 1] and not holds_only_a_start(out)
    with pytest.raises(UserError, match="holds another run: its lr is"):
        prune_iteratively(_settings(start, tiny_pairs, out, lr=5.0), log=lambda _: None)


def test_a_run_is_the_same_run_from_any_folder_and_not_on_other_data(start, tiny_pairs, tmp_path, monkeypatch):
    """Paths are compared resolved: the run started with relative paths resumes from another folder under other
    spellings of the same folders, and refuses the same relative spelling that now names other data."""
    import shutil

    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    shutil.copytree(tiny_pairs, home / "data" / "pairs")
    other = tmp_path / "other"
    shutil.copytree(tiny_pairs, other / "data" / "pairs")
    (home / "sub").mkdir()
    monkeypatch.chdir(home)
    relative = _settings(start, tmp_path / "x", "run", val_dir="data/pairs",
                         hr_dirs=["data/pairs/DIV2K_LSDIR_valid_HR"])
    prune_iteratively(relative, log=lambda _: None)
    monkeypatch.chdir(home / "sub")  # the same folders, spelled from elsewhere: a resume, nothing more to do
    again = _settings(start, tmp_path / "x", "../run", val_dir="../data/pairs", max_steps=1,
                      hr_dirs=["../data/pairs/DIV2K_LSDIR_valid_HR"])
    assert prune_iteratively(again, log=lambda _: None)["steps"] == 1
    monkeypatch.chdir(other)  # the same relative text, other data: another run
    moved = _settings(start, tmp_path / "x", str(home / "run"), val_dir="data/pairs",
                      hr_dirs=["data/pairs/DIV2K_LSDIR_valid_HR"])
    with pytest.raises(UserError, match="holds another run: its val_dir is"):
        prune_iteratively(moved, log=lambda _: None)
