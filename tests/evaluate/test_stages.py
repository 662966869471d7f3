"""Stale stages of a killed evaluation (slimrlfn.evaluate.ntire.remove_stale_stages) go; a live run's stay."""
import os
import subprocess
import sys

import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.arch.ref import resolve_model
from slimrlfn.evaluate.ntire import evaluate, remove_stale_stages


@pytest.fixture
def tiny_checkpoint_path(tmp_path):
    torch.manual_seed(0)
    return save_checkpoint(build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}), tmp_path / "tiny.pth")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_runs_stage_is_removed_and_a_live_ones_kept(tmp_path):
    dead = tmp_path / f".partial-tiny-valid-{_dead_pid()}"
    live = tmp_path / f".partial-tiny-valid-{os.getpid()}"
    other = tmp_path / ".partial-notes"  # not a stage name: left alone
    for folder in (dead, live, other):
        (folder / "x").mkdir(parents=True)
    assert remove_stale_stages(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and other.exists()


def test_the_next_evaluation_cleans_a_killed_ones_stage(tiny_pairs, tiny_checkpoint_path, tmp_path):
    save = tmp_path / "out"
    stale = save / f".partial-tiny-valid-{_dead_pid()}"
    stale.mkdir(parents=True)
    (stale / "a.png").write_bytes(b"half")
    evaluate(resolve_model(checkpoint=tiny_checkpoint_path), tiny_pairs, save, device="cpu", progress=False,
             backend="eager")
    assert not stale.exists()
    assert sorted(p.name for p in save.iterdir()) == ["results.json", "results.txt", "tiny"]
