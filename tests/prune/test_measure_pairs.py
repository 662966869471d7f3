"""slimrlfn.prune.measure with a fake timer: the order of the paired forwards (ABBA...), the direction of the ratio,
and which samples each summary is taken over. No test here depends on this machine's speed."""
from __future__ import annotations

from typing import Dict, List

import pytest
import torch
import torch.nn as nn

import slimrlfn.prune.measure as measure
from slimrlfn.arch.config import default_config
from slimrlfn.data.validation import load_validation
from slimrlfn.metrics.counts import architecture_counts
from slimrlfn.metrics.score import ntire_score
from slimrlfn.prune.measure import measure_model, paired_latency
from tests.prune.test_measure import _tiny


class _Named(nn.Module):
    """A stand-in network: the fake timer reads its ``label``, nothing runs."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label


class _FakeTimer:
    """Gives each network the next of its own times (ms) and records the order the networks were timed in."""

    kind = "fake"

    def __init__(self, times: Dict[str, List[float]]) -> None:
        self.times = {label: list(values) for label, values in times.items()}
        self.calls: List[str] = []

    def __call__(self, net: nn.Module, x: torch.Tensor):
        self.calls.append(net.label)
        return None, self.times[net.label].pop(0), None


def _timed(monkeypatch, times: Dict[str, List[float]], **kwargs):
    timer = _FakeTimer(times)
    monkeypatch.setattr(measure, "make_timer", lambda device: timer)
    result = paired_latency(_Named("model"), _Named("baseline"), torch.device("cpu"), size=4,
                            data_range=255.0, **kwargs)
    return result, timer


def test_paired_timing_alternates_which_network_goes_first(monkeypatch):
    """Catches paired timing that always times the model first (AB AB) instead of alternating (AB BA)."""
    _, timer = _timed(monkeypatch, {"model": [1.0] * 5, "baseline": [1.0] * 5}, runs=4, warmup=1)
    assert timer.calls == ["model", "baseline", "baseline", "model", "model", "baseline",
                           "baseline", "model", "model", "baseline"]


def test_a_steady_rise_in_load_biases_neither_network(monkeypatch):
    """Catches paired timing without alternation: load that grows call by call then favours whichever goes first."""
    calls: List[str] = []

    def rising(net, x):  # the k-th forward of the run takes 1 % longer than the one before, whichever network it is
        calls.append(net.label)
        return None, 1.0 + 0.01 * (len(calls) - 1), None

    rising.kind = "fake"
    monkeypatch.setattr(measure, "make_timer", lambda device: rising)
    result = paired_latency(_Named("model"), _Named("baseline"), torch.device("cpu"), size=4, runs=8, warmup=0,
                            data_range=255.0)
    assert result["ratio"] == pytest.approx(1.0, abs=0.002)  # the same cost: ratio 1 (AB AB would give 0.991)


def test_the_ratio_is_the_model_over_the_baseline(monkeypatch):
    """Catches the paired ratio inverted (baseline / model): a model twice as fast as the baseline has ratio 0.5."""
    result, _ = _timed(monkeypatch, {"model": [2.0] * 4, "baseline": [4.0] * 4}, runs=3, warmup=1)
    assert result["ratio"] == pytest.approx(0.5) and result["ratio_ci"] == pytest.approx([0.5, 0.5])
    assert result["latency_ms"] == 2.0 and result["baseline_latency_ms"] == 4.0


def test_the_summaries_are_over_the_timed_pairs_of_their_own_network(monkeypatch):
    """Catches a reversed IQR, a minimum counting the warm-up, and the baseline's minimum taken over the model."""
    result, _ = _timed(monkeypatch, {"model": [0.5, 1.0, 2.0, 3.0, 4.0], "baseline": [9.0, 10.0, 11.0, 12.0, 13.0]},
                       runs=4, warmup=1)
    assert result["latency_iqr_ms"] == pytest.approx(1.5)  # q75 - q25 of 1, 2, 3, 4
    assert result["latency_min_ms"] == 1.0  # the warm-up's 0.5 is not counted
    assert result["baseline_min_ms"] == 10.0
    assert result["latency_samples_ms"] == [0.5, 1.0, 2.0, 3.0, 4.0]  # every sample kept, warm-up first


def test_measure_model_reports_rlfn_and_the_model_apart(monkeypatch, tiny_pairs):
    """Catches measure_model reporting the model's latency as RLFN's, or an inverted ratio in the score."""
    model = _tiny()

    def fake_timer(device):
        def timer(net, x):
            return None, 2.0 if net is model else 8.0, None
        timer.kind = "fake"
        return timer

    monkeypatch.setattr(measure, "make_timer", fake_timer)
    images = load_validation(tiny_pairs, "valid", 4, 1)
    row = measure_model(model, images, torch.device("cpu"), latency_size=8, latency_runs=3, latency_seconds=None)
    assert (row["latency_ms"], row["rlfn_latency_ms"], row["latency_ratio"]) == (2.0, 8.0, 0.25)
    assert row["latency_stopped_by"] == "precision" and row["latency_pairs"] == 3  # no spread: the target is met
    counts, rlfn = architecture_counts(row["config"]), architecture_counts(default_config("rlfn"))
    assert row["ntire_score"] == pytest.approx(ntire_score(0.25, counts["flops_g"], counts["params_m"], 1.0,
                                                           rlfn["flops_g"], rlfn["params_m"]))
