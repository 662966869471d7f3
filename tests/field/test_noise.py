import pytest

from slimrlfn.field.noise import resample_rankings

FLOPS = {"a": 10.0, "b": 10.0, "c": 10.0}
PARAMS = {"a": 0.2, "b": 0.2, "c": 0.2}


def test_well_separated_runtimes_need_one_run():
    runs = {"a": [10.0, 10.1, 9.9], "b": [20.0, 20.2, 19.8], "c": [30.0, 30.1, 29.9]}
    noise = resample_rankings(runs, FLOPS, PARAMS, "a", draws=50)
    assert noise["k"] == [1, 2, 3] and noise["same_ranking"] == [1.0, 1.0, 1.0]
    assert noise["mean_tau"] == pytest.approx([1.0, 1.0, 1.0]) and noise["runs_needed"] == 1


def test_overlapping_runtimes_do_not_settle_and_the_result_is_seeded():
    runs = {"a": [10.0, 14.0, 9.0, 13.0], "b": [11.0, 12.0, 15.0, 10.0], "c": [12.0, 9.5, 11.0, 14.5]}
    noise = resample_rankings(runs, FLOPS, PARAMS, "a", draws=100)
    assert noise["runs_needed"] is None and max(noise["same_ranking"]) < 0.95
    assert all(-1.0 <= t <= 1.0 for t in noise["mean_tau"])
    assert resample_rankings(runs, FLOPS, PARAMS, "a", draws=100) == noise


def test_nothing_to_resample():
    assert resample_rankings({"a": [1.0], "b": [2.0]}, FLOPS, PARAMS, "a")["k"] == []
    assert resample_rankings({"a": [1.0, 2.0]}, FLOPS, PARAMS, "a")["k"] == []
    assert resample_rankings({"a": [], "b": [2.0, 2.1]}, FLOPS, PARAMS, "a")["k"] == []


def test_the_mean_tau_settles_before_the_exact_ranking():
    runs = {"a": [10.0, 10.6, 9.4, 10.2], "b": [10.5, 11.1, 10.0, 10.9], "c": [30.0, 30.1, 29.9, 30.2]}
    noise = resample_rankings(runs, FLOPS, PARAMS, "a", draws=200, agreement=0.8)
    assert noise["runs_needed_tau"] is not None
    assert noise["runs_needed"] is None or noise["runs_needed_tau"] <= noise["runs_needed"]
