"""slimrlfn.metrics.score: the NTIRE score formula, and a year's score from its record."""
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


def test_the_challenge_score_of_a_year_reads_its_record():
    from slimrlfn.metrics.score import NTIRE_WEIGHTS, PSNR_GATES, challenge_score, sub_score
    from slimrlfn.metrics.years import YEARS

    assert NTIRE_WEIGHTS == YEARS["2024"].weights and PSNR_GATES == YEARS["2024"].gates
    # the README's own example: SPAN at 7.74 ms, 9.83 G, 0.151 M scores 7.3891 under the 2026 rules
    assert challenge_score(YEARS["2026"], 7.74, 9.83, 0.151) == pytest.approx(7.3891, abs=5e-5)
    assert challenge_score(YEARS["2024"], 13.54, 19.67, 0.317) == pytest.approx(7.3891, abs=5e-5)
    assert challenge_score(YEARS["2026"], 3.87, 9.83, 0.151) == pytest.approx(
        0.8 * math.e + 0.1 * math.exp(2) + 0.1 * math.exp(2))
    assert challenge_score(YEARS["2023"], 1.0, 1.0, 1.0) is None
    assert sub_score(7.74, 7.74) == pytest.approx(math.exp(2)) and sub_score(1e6, 1.0) == math.inf
