import math

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.field.analysis import analyse, variant_pairs
from tests.helpers import fake_field_doc


def test_a_made_up_field_is_analysed_as_computed_by_hand():
    doc = fake_field_doc()
    by_key = {e["key"]: e for e in doc["entries"]}
    assert doc["baseline"] == "00_Base"
    assert by_key["00_Base"]["score_cold"] == pytest.approx(math.exp(2))
    assert by_key["00_Base"]["years"]["2026"]["score_warm"] == pytest.approx(math.exp(2))
    assert doc["year"] == "2024" and doc["years"] == ["2024", "2026"]
    assert not any(name.endswith("_2026") for e in doc["entries"] for name in e), "no year in a key name"
    assert {k: e["rank_cold"] for k, e in by_key.items()} == {"00_Base": 4, "10_Fast": 2, "10_Fastlite": 3,
                                                                "11_Steady": 1, "12_Broken": None}
    assert {k: e["rank_warm"] for k, e in by_key.items()} == {"00_Base": 3, "10_Fast": 2, "10_Fastlite": 1,
                                                                "11_Steady": 4, "12_Broken": None}
    assert doc["ranking"]["tau"] == pytest.approx(-1 / 3)
    assert -1 <= doc["ranking"]["years"]["2026"]["tau"] <= 1 and "tau_2026" not in doc["ranking"]
    assert doc["ranking"]["years"]["2024"]["tau"] == doc["ranking"]["tau"]
    assert doc["ranking"]["years"]["2026"]["weights"] == [0.8, 0.1, 0.1]
    assert [(m["key"], m["places_up_when_warm"]) for m in doc["ranking"]["movers"]] == [
        ("11_Steady", -3), ("10_Fastlite", 2), ("00_Base", 1)]
    (pair,) = doc["ranking"]["pairs"]
    assert (pair["parent"], pair["child"], pair["child_cold"], pair["child_warm"]) == (
        "10_Fast", "10_Fastlite", "below", "above")
    assert pair["child_slower_cold"] is True and pair["child_slower_warm"] is False
    assert by_key["00_Base"]["cold_minus_warm_ms"] == pytest.approx(30.0 - 15.1)
    assert by_key["00_Base"]["micro_ms"] == {"256x256": pytest.approx(45.6)} and by_key["00_Base"]["micro_warmup"] == 3
    assert set(doc["ranking"]["noise"]) == {"cold", "warm"}


def test_ranks_are_permutations_and_analyse_is_idempotent():
    doc = fake_field_doc()
    ranked = [e for e in doc["entries"] if e["rank_cold"] is not None]
    for year in ("2024", "2026"):
        for name in ("rank_cold", "rank_warm"):
            assert sorted(e["years"][year][name] for e in ranked) == list(range(1, len(ranked) + 1))
    before = {e["key"]: (e["score_cold"], e["rank_warm"]) for e in doc["entries"]}
    analyse(doc)
    assert {e["key"]: (e["score_cold"], e["rank_warm"]) for e in doc["entries"]} == before


def test_a_given_baseline_and_given_pairs():
    doc = fake_field_doc()
    doc["baseline_given"] = "11_Steady"
    doc["pairs_given"] = [["00_Base", "10_Fast"]]
    analyse(doc)
    steady = next(e for e in doc["entries"] if e["key"] == "11_Steady")
    assert doc["baseline"] == "11_Steady" and steady["score_cold"] == pytest.approx(math.exp(2))
    assert [(p["parent"], p["child"]) for p in doc["ranking"]["pairs"]] == [("00_Base", "10_Fast")]
    doc["pairs_given"] = [["00_Base", "99_None"]]
    with pytest.raises(UserError, match="--pairs 00_Base:99_None: 99_None is not a member that loads"):
        analyse(doc)


def test_one_run_gives_no_warm_runtime_and_no_warm_rank():
    doc = fake_field_doc(runs=1)
    assert all(e["rank_warm"] is None for e in doc["entries"]) and doc["ranking"]["tau"] is None
    assert doc["ranking"]["noise"]["cold"]["k"] == []


def test_variants_are_found_by_name():
    keys = ["00_RLFN_baseline", "13_RLFN_B", "21_SlimRLFN", "21_SlimRLFN_prune", "38_SPAN", "39_SPANtiny", "16_LightRLFN"]
    assert variant_pairs(keys) == [("21_SlimRLFN", "21_SlimRLFN_prune"), ("38_SPAN", "39_SPANtiny")]
    assert variant_pairs(["1_X", "2_X-small", "3_XL"]) == [("1_X", "2_X-small")]
    assert variant_pairs(["00_A", "01_A"], prune_children={"01_A": "00_A"}) == [("00_A", "01_A")]


def test_the_own_year_leads_and_an_older_document_is_rewritten_without_years_in_key_names():
    doc = fake_field_doc()
    old = {e["key"]: e["years"]["2026"]["rank_cold"] for e in doc["entries"]}
    doc["year"] = "2026"
    doc["years"] = None
    analyse(doc)
    assert doc["years"] == ["2024", "2026"] and doc["ranking"]["year"] == "2026"
    assert {e["key"]: e["rank_cold"] for e in doc["entries"]} == old, "the plain keys are the own year's"
    assert doc["ranking"]["tau"] == doc["ranking"]["years"]["2026"]["tau"]
    legacy = fake_field_doc()
    for e in legacy["entries"]:  # as written before the year records
        for name, value in e.pop("years")["2026"].items():
            e[f"{name}_2026"] = value
    for name in ("year", "years"):
        legacy.pop(name)
    analyse(legacy)
    assert "years" in legacy["entries"][0] and "score_cold_2026" not in legacy["entries"][0]


def test_a_year_without_weights_is_refused():
    doc = fake_field_doc()
    doc["year"] = "2023"
    with pytest.raises(UserError, match="--year 2023: its score is not known"):
        analyse(doc)
