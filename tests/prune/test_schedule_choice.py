"""slimrlfn.prune.schedule: which channels a step removes (the lowest-scored, checked against the scores and the cut
weights) and that a resumed run continues from its last finished step (equal to an uninterrupted run)."""
from __future__ import annotations

import torch

from slimrlfn.arch.checkpoints import load_checkpoint
from slimrlfn.prune.criteria import channel_scores, lowest
from slimrlfn.prune.groups import ChannelGroups, prune_model
from slimrlfn.prune.records import load_records
from slimrlfn.prune.schedule import prune_iteratively

from tests.prune.test_schedule import settings, start_checkpoint  # noqa: F401 (the fixture and the settings)


def test_each_step_removes_the_lowest_scored_channels(start_checkpoint, tiny_pairs, tmp_path):
    """Step 1 removes, in every unit, the channels with the lowest importance scores of the starting model, and its
    model is the starting model with exactly those channels cut (no fine-tuning here)."""
    out = tmp_path / "run"
    prune_iteratively(settings(start_checkpoint, tiny_pairs, out, channels_per_step=2, max_steps=1,
                               finetune_iterations=0, scope=["inner", "esa"]), log=lambda _: None)
    start, _ = load_checkpoint(start_checkpoint)
    scores = channel_scores(ChannelGroups(start), "l1", "mean")
    step = load_records(out)[1]
    assert set(step["removed_channels"]) == {"b1.c1_r", "b1.c2_r", "b2.c1_r", "b2.c2_r", "b1.esa", "b2.esa"}
    for unit, per_subgroup in step["removed_channels"].items():
        for removed, score in zip(per_subgroup, scores[unit]):
            kept = [i for i in range(len(score)) if i not in removed]
            assert len(removed) == 2 and removed == lowest(score, 2), unit
            assert max(float(score[i]) for i in removed) <= min(float(score[i]) for i in kept), unit
    expected = prune_model(start, step["removed_channels"]).state_dict()
    model, _ = load_checkpoint(out / "step_01" / "model.pth")
    assert list(model.state_dict()) == list(expected)
    assert all(torch.equal(value, expected[key]) for key, value in model.state_dict().items())


def test_a_resumed_run_equals_an_uninterrupted_one(start_checkpoint, tiny_pairs, tmp_path):
    """Stopped after step 1 and resumed to step 3: the same removals, configs and final weights as one run to step 3."""
    common = dict(max_steps=3, finetune_iterations=2)
    prune_iteratively(settings(start_checkpoint, tiny_pairs, tmp_path / "straight", **common), log=lambda _: None)
    split = tmp_path / "split"
    prune_iteratively(settings(start_checkpoint, tiny_pairs, split, **{**common, "max_steps": 1}), log=lambda _: None)
    prune_iteratively(settings(start_checkpoint, tiny_pairs, split, **common), log=lambda _: None)
    straight_records, split_records = load_records(tmp_path / "straight"), load_records(split)
    assert [r["step"] for r in split_records] == [0, 1, 2, 3]
    for a, b in zip(straight_records, split_records):
        assert (a["config"], a["removed_channels"]) == (b["config"], b["removed_channels"]), a["step"]
    straight_final = load_checkpoint(tmp_path / "straight" / "final.pth")[0].state_dict()
    split_final = load_checkpoint(split / "final.pth")[0].state_dict()
    assert all(torch.equal(value, split_final[key]) for key, value in straight_final.items())
