"""slimrlfn.prune.plan: per-layer, global and latency-aware plans."""
from __future__ import annotations

import torch

from slimrlfn.prune.plan import plan_counts


def test_per_layer_plan_keeps_multiples_and_minimums():
    widths = {"a": 30, "b": 29, "c": 9}
    scores = {u: [torch.ones(w)] for u, w in widths.items()}
    counts, _ = plan_counts(widths, scores, {"a": 8, "b": 8, "c": 8}, k=2, multiple_of=4)
    assert counts == {"a": 2, "b": 5, "c": 1}  # 28, 24, 8: multiples of 4, none below 8


def test_global_plan_takes_the_cheapest_channels_across_units():
    widths = {"a": 4, "b": 4}
    scores = {"a": [torch.tensor([0.1, 0.2, 5.0, 5.0])], "b": [torch.tensor([0.15, 3.0, 3.0, 3.0])]}
    counts, table = plan_counts(widths, scores, {"a": 1, "b": 1}, k=3, rank="global")
    assert counts == {"a": 2, "b": 1}
    assert [row["unit"] for row in table] == ["a", "b", "a"]


def test_latency_aware_plan_prefers_time_saved_per_importance():
    widths = {"a": 8, "b": 8}
    scores = {"a": [torch.ones(8)], "b": [torch.ones(8) * 2]}
    saved = {"a": 0.1, "b": 5.0}
    counts, table = plan_counts(widths, scores, {"a": 1, "b": 1}, k=2, latency_saved=lambda u, c: saved[u])
    assert counts == {"b": 2} and [r["unit"] for r in table if r.get("chosen")] == ["b"]
    counts, _ = plan_counts(widths, scores, {"a": 1, "b": 1}, k=2, latency_saved=lambda u, c: -1.0)
    assert counts == {"a": 2}  # nothing measurably faster: the least important
