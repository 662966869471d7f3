import math

import pytest

from slimrlfn.field.ranking import WEIGHTS, kendall_tau, protocol_runtimes, rank_order, rankings, scores
from tests.helpers import fake_field_doc


def test_kendall_tau_agrees_with_scipy_with_and_without_ties():
    from scipy.stats import kendalltau

    cases = [([1, 2, 3, 4], [1, 2, 3, 4]), ([1, 2, 3, 4], [4, 3, 2, 1]), ([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]),
             ([1, 2, 2, 3], [1, 3, 2, 2]), ([3.1, 0.2, 5.5, 1.0, 2.2, 4.4], [2.0, 0.1, 6.0, 3.0, 1.0, 4.0])]
    for a, b in cases:
        assert kendall_tau(a, b) == pytest.approx(kendalltau(a, b).statistic, abs=1e-12)
    assert kendall_tau([1, 2, 3], [1, 2, 3]) == 1.0 and kendall_tau([1, 2, 3], [3, 2, 1]) == -1.0
    assert math.isnan(kendall_tau([1], [2]))
    with pytest.raises(ValueError, match="pairs"):
        kendall_tau([1, 2], [1])


def test_rank_order_puts_the_lowest_score_first_and_keeps_ties_in_order():
    assert rank_order({"a": 3.0, "b": 1.0, "c": 2.0}) == {"b": 1, "c": 2, "a": 3}
    assert rank_order({"x": 1.0, "y": 1.0, "z": 0.5}) == {"z": 1, "x": 2, "y": 3}


@pytest.mark.parametrize("year", ["2024", "2026"])
def test_the_baseline_scores_e_squared_under_both_weights(year):
    values = scores({"base": 20.0, "other": 10.0}, {"base": 19.67, "other": 11.99}, {"base": 0.317, "other": 0.208},
                    "base", WEIGHTS[year])
    assert values["base"] == pytest.approx(math.exp(2)) == pytest.approx(7.389, abs=5e-4)
    w_time, w_flops, w_params = WEIGHTS[year]
    expected = (w_time * math.exp(2 * 10 / 20) + w_flops * math.exp(2 * 11.99 / 19.67)
                + w_params * math.exp(2 * 0.208 / 0.317))
    assert values["other"] == pytest.approx(expected)
    assert sum(WEIGHTS[year]) == pytest.approx(1.0)


def test_warm_runtime_leaves_the_first_run_of_its_process_out():
    entry = fake_field_doc()["entries"][0]
    times = protocol_runtimes(entry)
    assert times["cold"]["runs_ms"] == [30.0, 31.0, 29.0] and times["cold"]["ms"] == pytest.approx(30.0)
    assert times["warm"]["runs_ms"] == [15.0, 15.2] and times["warm"]["ms"] == pytest.approx(15.1)
    assert times["cold"]["sd"] == pytest.approx(1.0)


def test_rankings_of_a_made_up_field_by_hand():
    runtimes = {"cold": {"S": 22.0333333, "F": 20.5, "FL": 22.5, "B": 30.0},
                "warm": {"S": 20.05, "F": 10.05, "FL": 9.05, "B": 15.1}}
    flops = {"S": 8.0, "F": 12.0, "FL": 11.0, "B": 19.0}
    params = {"S": 0.1, "F": 0.2, "FL": 0.19, "B": 0.3}
    out = rankings(runtimes, flops, params, "B")
    assert out["ranks"]["2024"]["cold"] == {"S": 1, "F": 2, "FL": 3, "B": 4}
    assert out["ranks"]["2024"]["warm"] == {"FL": 1, "F": 2, "B": 3, "S": 4}
    assert out["tau"]["2024"] == pytest.approx(-1 / 3)
    missing = rankings({"cold": {"S": 1.0, "B": 2.0}, "warm": {"S": None, "B": None}}, flops, params, "B")
    assert missing["ranks"]["2024"]["warm"] == {} and missing["tau"]["2024"] is None


def test_kendall_tau_b_leaves_out_pairs_tied_in_both_rankings():
    """Catches tau-b counting a pair tied in both rankings among the pairs of its denominator terms."""
    from scipy.stats import kendalltau

    # Pairs: (1, 2) tied in both, left out; (3, 4) tied in a only; the other four concordant:
    # tau-b = 4 / sqrt((4 + 1) * 4) = 0.894 (counting the joint tie as well: 4 / sqrt(6 * 5) = 0.730).
    a, b = [1, 1, 2, 2], [1, 1, 2, 3]
    assert kendall_tau(a, b) == pytest.approx(4 / math.sqrt(20), abs=1e-12)
    for a, b in ([1, 1, 2, 2], [1, 1, 2, 3]), ([2, 2, 1, 3, 3], [5, 5, 4, 1, 1]), ([1, 1, 1, 2], [3, 3, 3, 1]):
        assert kendall_tau(a, b) == pytest.approx(kendalltau(a, b).statistic, abs=1e-12)
