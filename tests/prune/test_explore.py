"""slimrlfn.prune.explore: step 0 timed once for every criterion, intervals in the table, 'within noise', the verdict."""
from __future__ import annotations

import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.metrics.stats import paired_ratio
from slimrlfn.prune.explore import (compact_table, explore, latency_change, records_table, speed_verdict,
                                    timing_note)

TINY_SLIM = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 7, 8, 5],
             "esa_channels": 4}


def _record(step, ratio, noise, seed):
    """A record whose latency ratio was measured over 12 pairs with ``noise`` relative spread (made-up samples)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    base = 10.0 * rng.uniform(1, 2, 12)
    model = ratio * base * rng.lognormal(0, noise, 12)
    paired = paired_ratio(model, base, seed=seed)
    return {"step": step, "latency_ratio": paired["ratio"], "latency_ratio_ci": paired["ci"], "latency_pairs": 12}


def test_within_noise_is_flagged_when_the_intervals_overlap():
    start = _record(0, 1.00, 0.20, 1)
    slightly = _record(1, 0.98, 0.20, 2)  # 2 % faster under 20 % noise: not a difference this can show
    much = _record(2, 0.60, 0.01, 3)  # 40 % faster, 1 % noise
    assert latency_change(start, slightly) == "within noise"
    assert latency_change(slightly, much) == "faster" and latency_change(much, start) == "slower"
    assert latency_change(None, start) is None and latency_change(start, {"latency_ratio": 1.0}) is None


def test_the_verdict_refuses_to_rank_overlapping_criteria_and_ranks_separated_ones():
    noisy = {"l1": [_record(0, 1.0, 0.2, 4), _record(1, 0.95, 0.2, 5)], "l2": [_record(0, 1.0, 0.2, 4),
                                                                               _record(1, 0.97, 0.2, 6)]}
    assert speed_verdict(noisy).startswith("too wide to rank the criteria by speed")
    clear = {"l1": [_record(1, 0.5, 0.01, 7)], "l2": [_record(1, 0.8, 0.01, 8)]}
    verdict = speed_verdict(clear)
    assert verdict.startswith("fastest final model first") and verdict.index("l1") < verdict.index("l2")


def test_step_0_is_timed_once_and_every_criterion_shows_it(tiny_pairs, tmp_path):
    torch.manual_seed(0)
    start = save_checkpoint(build_model(TINY_SLIM).eval(), tmp_path / "start" / "tiny.pth")
    runs = explore(["l1", "random"], tmp_path / "prune", model=str(start), val_dir=str(tiny_pairs),
                   hr_dirs=[str(tiny_pairs / "DIV2K_LSDIR_valid_HR")], channels_per_step=1, max_steps=1,
                   finetune_iterations=1, batch_size=2, lr_patch=16, latency_size=16, latency_runs=2,
                   latency_seconds=0.2, device="cpu", progress=False)
    firsts = [records[0] for records in runs.values()]
    for key in ("latency_ms", "latency_ci_ms", "latency_ratio", "latency_ratio_ci", "latency_pairs", "ntire_score",
                "ntire_score_ci", "latency"):
        assert firsts[0][key] == firsts[1][key], key
    assert firsts[0]["criterion"] == "l1" and firsts[1]["criterion"] == "random"
    rows = records_table(runs)
    assert [r["criterion"] for r in rows] == ["l1", "l1", "random", "random"]
    for row in rows:
        assert row["pairs"] >= 2 and "-" in row["ratio 95% CI"] and "-" in row["NTIRE score 95% CI"]
    assert rows[0]["latency vs step before"] is None
    assert rows[1]["latency vs step before"] in ("within noise", "faster", "slower")
    assert isinstance(speed_verdict(runs), str)
    assert [list(r)[:3] for r in compact_table(runs)][0] == ["criterion", "step", "PSNR [dB]"]
    assert len(compact_table(runs)[0]) == 8 and timing_note(runs) is None
    assert sorted(p.name.split("-")[0] for p in runs.folders.values()) == ["l1", "random"]

    # Another timing setting (threads, time cap) is another run: every step timed afresh, none read back.
    threads = torch.get_num_threads()
    settings = dict(model=str(start), val_dir=str(tiny_pairs), hr_dirs=[str(tiny_pairs / "DIV2K_LSDIR_valid_HR")],
                    channels_per_step=1, max_steps=1, finetune_iterations=1, batch_size=2, lr_patch=16,
                    latency_size=16, latency_runs=2, device="cpu", progress=False)
    try:
        torch.set_num_threads(1 if threads > 1 else 2)
        again = explore(["l1"], tmp_path / "prune", latency_seconds=0.2, **settings)
    finally:
        torch.set_num_threads(threads)
    assert again.folders["l1"] != runs.folders["l1"]
    assert again["l1"][0]["latency"]["threads"] != runs["l1"][0]["latency"]["threads"]
    capped = explore(["l1"], tmp_path / "prune", latency_seconds=0.3, **settings)
    assert capped.folders["l1"] not in (runs.folders["l1"], again.folders["l1"])
    same = explore(["l1"], tmp_path / "prune", latency_seconds=0.2, **settings)
    assert same.folders["l1"] == runs.folders["l1"] and same["l1"] == runs["l1"]  # unchanged: read back
    # a table mixing them says so
    note = timing_note({"old": runs["l1"], "new": again["l1"]})
    assert note and note.startswith("latencies measured 2 different ways")


@pytest.mark.parametrize("value", [0, -1.0])
def test_latency_budget_values_are_checked(value, tiny_pairs, tmp_path):
    from slimrlfn.core.errors import UserError
    from slimrlfn.prune.settings import PruneSettings, check_settings

    with pytest.raises(UserError, match="--latency_seconds"):
        check_settings(PruneSettings(out_dir=str(tmp_path), val_dir=str(tiny_pairs), max_steps=1,
                                     finetune_iterations=0, latency_seconds=value))
