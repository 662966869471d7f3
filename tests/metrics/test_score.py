"""slimrlfn.metrics.score: the NTIRE 2024 score formula."""
from __future__ import annotations

import math

import pytest

from slimrlfn.metrics.score import ntire_score


def test_ntire_score_formula():
    assert ntire_score(10.0, 19.675, 0.3172, 10.0, 19.675, 0.3172) == pytest.approx(math.exp(2))
    value = ntire_score(5.0, 9.8375, 0.1586, 10.0, 19.675, 0.3172)
    assert value == pytest.approx(math.e)  # half of RLFN everywhere: exp(1)
    assert ntire_score(6.0, 10.0, 0.2, 10.0, 20.0, 0.4) == pytest.approx(
        0.7 * math.exp(1.2) + 0.15 * math.exp(1.0) + 0.15 * math.exp(1.0))


def test_a_runtime_past_the_range_of_exp_scores_inf_and_ranks_last():
    import math

    from slimrlfn.field.ranking import kendall_tau, rank_order
    from slimrlfn.metrics.score import ntire_score

    stalled = ntire_score(35.2, 0.08, 0.0013, 0.08, 0.08, 0.0013)  # 440x the baseline's runtime
    assert stalled == math.inf
    assert rank_order({"a": stalled, "b": 7.389, "c": 3.0}) == {"c": 1, "b": 2, "a": 3}
    assert kendall_tau([math.inf, 1.0, 2.0], [math.inf, 1.0, 2.0]) == 1.0
