"""slimrlfn.timing.protocols.summarize_groups: a run's numbers from its samples, on known samples: the mean (NTIRE's
number), the median and the first of the *timed* samples; warm-up samples kept in the record but only counted."""
from __future__ import annotations

import pytest

from slimrlfn.timing.protocols import summarize_groups


def sample(name: str, ms: float, warmup: bool = False) -> dict:
    return {"name": name, "shape": [8, 8], "warmup": warmup, "ms": ms, "wall_ms": ms}


def test_a_run_is_summarised_from_its_timed_samples_only():
    samples = [sample("a", 90.0, True), sample("b", 50.0, True),  # warm-up pass: slow, left out
               sample("a", 10.0), sample("b", 11.0), sample("c", 30.0)]
    (group,) = summarize_groups(samples, "warm").values()
    assert group == {"n": 3, "mean_ms": pytest.approx(17.0), "median_ms": 11.0, "first_ms": 10.0, "warmup_n": 2}


def test_the_ntire_protocol_has_one_group_and_micro_one_per_shape():
    ntire = summarize_groups([sample("x", 4.0), sample("y", 1.0), sample("z", 1.0)], "ntire")
    assert list(ntire) == ["images"] and ntire["images"]["mean_ms"] == pytest.approx(2.0)
    assert ntire["images"]["median_ms"] == 1.0 and ntire["images"]["warmup_n"] == 0
    micro = summarize_groups([sample("16x16", 9.0, True), sample("16x16", 2.0), sample("16x16", 4.0),
                              sample("8x8", 7.0, True), sample("8x8", 1.0)], "micro")
    assert micro == {"16x16": {"n": 2, "mean_ms": 3.0, "median_ms": 3.0, "first_ms": 2.0, "warmup_n": 1},
                     "8x8": {"n": 1, "mean_ms": 1.0, "median_ms": 1.0, "first_ms": 1.0, "warmup_n": 1}}
