"""slimrlfn.official.rescore: runtimes with the first image removed, gates, eligibility, ranks, tau, movers."""
from __future__ import annotations

import pytest

from slimrlfn.metrics.years import YEARS, Baseline, ChallengeYear
from slimrlfn.official.rescore import (compare_protocols, entry_runtimes, gate_check, published, rank_protocol,
                                       tracks_of)
from tests.official.helpers import entry

#: A year with a 10 ms / 10 G / 0.2 M baseline, the 2026 weights and gates, and its sub-tracks.
RULES = ChallengeYear(year="2026", title="t", repository="r", source="s", baseline=Baseline("Base", 10.0, flops_g=10.0,
                      params_m=0.2), weights=(0.8, 0.1, 0.1), gates={"valid": 26.90, "test": 26.99},
                      sub_tracks=YEARS["2026"].sub_tracks)


def test_the_first_valid_image_is_left_out_and_the_test_split_kept():
    r = entry_runtimes(entry([100.0, 10.0, 12.0, 8.0], [9.0, 11.0], 1.0, 0.1))
    assert r["valid_ms"] == pytest.approx(32.5) and r["test_ms"] == pytest.approx(10.0)
    assert r["official_ms"] == pytest.approx((32.5 + 10.0) / 2) and r["rescored_ms"] == pytest.approx((10.0 + 10.0) / 2)
    assert r["first_ms"] == 100.0 and r["median_valid_ms"] == pytest.approx(11.0) and r["first_cost_ms"] == pytest.approx(89.0)
    assert r["first_share"] == pytest.approx(100.0 / 130.0) and r["ave_time_shift_ms"] == pytest.approx(11.25)
    valid_only = entry_runtimes(entry([30.0, 10.0], None, 1.0, 0.1))
    assert valid_only["official_ms"] == 20.0 and valid_only["rescored_ms"] == 10.0 and valid_only["test_ms"] is None
    assert entry_runtimes(entry([5.0], None, 1.0, 0.1))["rescored_ms"] is None


def test_figures_are_rounded_as_results_txt_prints_them_and_gates_read_at_two_decimals():
    assert published(7.8808, 8.2198, 0.125992) == {"runtime_ms": 7.88, "flops_g": 8.22, "params_m": 0.126}
    gate = gate_check({"valid": 26.8964, "test": 26.9936}, RULES)
    assert gate["pass"] is True and gate["by_rounding"] == ["valid"] and gate["splits"]["valid"]["published"] == 26.90
    assert gate_check({"valid": 26.8949, "test": 27.5}, RULES)["pass"] is False
    assert gate_check({"valid": 26.95, "test": None}, RULES)["splits"].keys() == {"valid"}
    assert gate_check({"valid": 20.0}, YEARS["2023"])["pass"] is None


def _entries():
    """Base 10 ms; Fast passes every constraint; Cold is slower than Base only because of its first image; Low fails
    a gate; Big has too many params for the sub-tracks."""
    raw = {"00_Base": entry([10.0] * 4, [10.0] * 4, 10.0, 0.2),
           "01_Fast": entry([9.0] * 4, [9.0] * 4, 9.0, 0.19),
           "02_Cold": entry([18.0, 9.0, 9.0, 9.0], [9.0] * 4, 5.0, 0.1),
           "03_Low": entry([5.0] * 4, [5.0] * 4, 5.0, 0.1, psnr=26.80),
           "04_Big": entry([8.0] * 4, [8.0] * 4, 9.0, 0.5)}
    out = []
    for key, value in raw.items():
        out.append({"key": key, "flops_g": value["flops"], "params_m": value["num_parameters"],
                    "runtimes": entry_runtimes(value),
                    "gate": gate_check({"valid": value["valid_ave_psnr"], "test": value["test_ave_psnr"]}, RULES)})
    return out


def test_ranks_per_track_and_what_the_re_scoring_changes():
    entries = _entries()
    ranked = {p: rank_protocol(entries, RULES, p) for p in ("official", "first_image_removed")}
    official, rescored = ranked["official"], ranked["first_image_removed"]
    # Cold: valid (18 + 27) / 4 = 11.25, test 9: Ave Time 10.125, printed 10.12 (> Base's 10); 9.00 without its first
    assert official["02_Cold"]["values"]["runtime_ms"] == 10.12 and rescored["02_Cold"]["values"]["runtime_ms"] == 9.0
    assert official["00_Base"]["score"] == pytest.approx(7.389, abs=5e-4)
    assert official["03_Low"]["tracks"]["main"] == {"eligible": False, "why_not": ["below a PSNR gate"], "rank": None}
    assert official["04_Big"]["tracks"]["runtime"]["why_not"] == ["params_m 0.5 > Base's 0.2"]
    assert tracks_of(RULES) == ["main", "runtime", "flops", "params"]
    assert {k: v["tracks"]["main"]["rank"] for k, v in official.items()} == {
        "00_Base": 3, "01_Fast": 1, "02_Cold": 2, "03_Low": None, "04_Big": 4}
    assert {k: v["tracks"]["main"]["rank"] for k, v in rescored.items()} == {
        "00_Base": 3, "01_Fast": 2, "02_Cold": 1, "03_Low": None, "04_Big": 4}
    assert official["02_Cold"]["tracks"]["flops"]["eligible"] is False
    assert rescored["02_Cold"]["tracks"]["flops"] == {"eligible": True, "why_not": [], "rank": 1}
    changes = compare_protocols(ranked, RULES)
    assert changes["main"]["tau"] == pytest.approx(4 / 6), "one of the six pairs swaps"
    assert changes["main"]["movers"] == [{"key": "01_Fast", "from": 1, "to": 2, "places_up": -1},
                                         {"key": "02_Cold", "from": 2, "to": 1, "places_up": 1}]
    assert changes["runtime"]["tau"] == 0.0 and changes["main"]["eligibility_changes"] == []
    for track in ("flops", "params"):
        (joined,) = changes[track]["eligibility_changes"]
        assert joined == {"key": "02_Cold", "joins": True, "why_not": ["runtime_ms 10.12 > Base's 10"], "rank_after": 1}
    assert changes["flops"]["compared"] == ["00_Base", "01_Fast"]


def test_each_parts_first_image_against_the_others_in_sigmas_and_the_first_k_left_out():
    r = entry_runtimes(entry([40.0, 10.0, 12.0, 8.0], [30.0, 9.0, 11.0], 1.0, 0.1))
    valid, test = r["parts"]["valid"], r["parts"]["test"]
    assert valid["rest_mean_ms"] == pytest.approx(10.0) and valid["rest_sd_ms"] == pytest.approx(2.0)
    assert valid["first_minus_rest_ms"] == pytest.approx(30.0) and valid["sigmas"] == pytest.approx(15.0)
    assert test["first_minus_rest_ms"] == pytest.approx(20.0) and test["sigmas"] == pytest.approx(20.0 / 2 ** 0.5)
    two = entry_runtimes(entry([40.0, 10.0, 12.0, 8.0], [30.0, 9.0, 11.0], 1.0, 0.1), drop_first=2)
    assert two["drop_first"] == 2 and two["rescored_ms"] == pytest.approx((10.0 + 50.0 / 3) / 2)


def test_the_cold_start_estimate_gives_warm_loaders_the_median_first_image_cost_of_the_others():
    from slimrlfn.official.rescore import cold_estimate

    def with_forwards(values, count):
        e = {"key": f"k{len(values)}{count}", "runtimes": entry_runtimes(entry(values, [10.0, 10.0], 1.0, 0.1)),
             "load_forwards": {"count": count}}
        return e

    warm = with_forwards([10.0, 10.0, 10.0, 10.0, 10.0], 20)  # its first image was warm: no cost
    colds = [with_forwards([10.0 + cost, 10.0, 10.0, 10.0], 0) for cost in (30.0, 50.0, 90.0)]
    unknown = with_forwards([10.0] * 6, None)
    estimate = cold_estimate([warm, *colds, unknown])
    assert estimate["median_first_cost_ms"] == pytest.approx(50.0) and estimate["warm"] == [warm["key"]]
    assert "estimate" in estimate["label"] and estimate["from_entries"] == 3
    assert warm["runtimes"]["cold_estimate_ms"] == pytest.approx((10.0 + 50.0 / 5 + 10.0) / 2)
    assert colds[0]["runtimes"]["cold_estimate_ms"] == colds[0]["runtimes"]["official_ms"]
    assert unknown["runtimes"]["cold_estimate_ms"] == unknown["runtimes"]["official_ms"]
    assert cold_estimate(colds) is None and cold_estimate([warm, unknown]) is None
