"""slimrlfn.prune.measure: paired timing to a precision or a time cap, and the NTIRE score from the paired ratio."""
from __future__ import annotations

import math

import pytest
import torch

from slimrlfn.arch.config import build_model, default_config
from slimrlfn.data.validation import load_validation
from slimrlfn.metrics.counts import architecture_counts
from slimrlfn.metrics.score import ntire_score
from slimrlfn.prune.measure import MEASURE_KEYS, measure_model, paired_latency

TINY = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1, "prune_channels": [8, 8], "esa_channels": 4}


def _tiny(channels: int = 8):
    torch.manual_seed(0)
    return build_model({**TINY, "feature_channels": channels, "prune_channels": [channels, channels]}).eval()


def test_without_a_target_it_times_the_runs_asked_for():
    timing = paired_latency(_tiny(), _tiny(16), torch.device("cpu"), size=16, runs=4, warmup=1, data_range=255.0)
    assert timing["stopped_by"] == "runs" and timing["pairs"] == 4 and len(timing["latency_samples_ms"]) == 5
    assert timing["ratio_ci"][0] <= timing["ratio"] <= timing["ratio_ci"][1]
    assert timing["latency_ci_ms"][0] <= timing["latency_ms"] <= timing["latency_ci_ms"][1]


def test_a_loose_target_stops_on_precision_a_tight_one_on_the_time_cap(monkeypatch):
    """Which rule stops the pairs, with fake timings and a fake clock: nothing here depends on this machine's speed or
    load (under load, real timings once made the loose target miss and the test fail)."""
    import itertools

    import slimrlfn.prune.measure as measure

    class Timer:  # the model 2 ms, RLFN 3 or 5 ms in turn: a ratio that varies, whatever the machine does
        kind = "fake"

        def __init__(self):
            self.rlfn = itertools.cycle([3.0, 5.0])

        def __call__(self, net, x):
            return None, (2.0 if net is model else next(self.rlfn)), None

    monkeypatch.setattr(measure, "make_timer", lambda device: Timer())
    model, rlfn = _tiny(), _tiny(16)
    loose = paired_latency(model, rlfn, torch.device("cpu"), size=16, runs=4, target_half_width=10.0,
                           time_cap_s=30.0, data_range=255.0, clock=lambda: 0.0)
    assert loose["stopped_by"] == "precision" and loose["pairs"] == 4 and loose["ratio_half_width"] <= 10.0
    ticks = iter(range(1, 10_000))  # a fake clock: 0.1 s per reading

    def clock():
        return next(ticks) / 10

    tight = paired_latency(model, rlfn, torch.device("cpu"), size=16, runs=2, target_half_width=1e-9,
                           time_cap_s=0.3, data_range=255.0, clock=clock)
    # begin at 0.1 s; after pairs 2, 3 and 4 the clock reads 0.2, 0.3, 0.4: the cap is reached at pair 4
    assert tight["stopped_by"] == "time cap" and tight["pairs"] == 4 and tight["time_cap_s"] == 0.3
    capped = paired_latency(model, rlfn, torch.device("cpu"), size=16, runs=2, target_half_width=1e-9,
                            time_cap_s=None, max_runs=6, data_range=255.0, clock=lambda: 0.0)
    assert capped["stopped_by"] == "max runs" and capped["pairs"] == 6


def test_the_score_and_its_interval_come_from_the_paired_ratio(tiny_pairs):
    images = load_validation(tiny_pairs, "valid", 4, 1)
    model = _tiny()
    row = measure_model(model, images, torch.device("cpu"), latency_size=16, latency_runs=3, latency_seconds=0.5)
    assert set(MEASURE_KEYS) <= set(row)
    counts, rlfn = architecture_counts(row["config"]), architecture_counts(default_config("rlfn"))
    expected = ntire_score(row["latency_ratio"], counts["flops_g"], counts["params_m"], 1.0, rlfn["flops_g"],
                           rlfn["params_m"])
    assert row["ntire_score"] == pytest.approx(expected)
    low, high = row["ntire_score_ci"]
    assert low <= row["ntire_score"] <= high
    w_time = 0.7
    assert high - low == pytest.approx(w_time * (math.exp(2 * row["latency_ratio_ci"][1])
                                                 - math.exp(2 * row["latency_ratio_ci"][0])))
    assert row["latency_pairs"] >= 3 and row["latency_stopped_by"] in ("precision", "time cap", "max runs")
