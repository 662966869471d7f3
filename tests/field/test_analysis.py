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


def _entry(doc, key):
    return next(e for e in doc["entries"] if e["key"] == key)


def test_micro_warmup_length_is_none_for_a_trace_that_never_settles():
    """Catches an unsettled micro trace recorded as its length (as if it had warmed up at its last forward)."""
    doc = fake_field_doc()
    micro = next(r for r in _entry(doc, "00_Base")["warm"] if r["kind"] == "micro")
    settles = [50.0, 20.0, 12.0, 10.2, 10.0, 9.9, 10.1, 10.0, 10.0, 9.95]  # within 5 % of 10 from the 4th on
    spikes = [30.0] + [10.0] * 8 + [30.0]  # the last forward is out of the band: never settles
    micro["samples"] = ([{"name": "256x256", "warmup": i < 3, "ms": ms} for i, ms in enumerate(settles)]
                        + [{"name": "128x128", "warmup": i < 3, "ms": ms} for i, ms in enumerate(spikes)])
    analyse(doc)
    assert _entry(doc, "00_Base")["micro_warmup_length"] == {"256x256": 3, "128x128": None}
    assert _entry(doc, "10_Fast")["micro_warmup_length"] is None, "no samples, no lengths"


def test_a_failed_micro_record_gives_no_micro_numbers():
    """Catches the micro numbers read from a micro record whose run failed."""
    doc = fake_field_doc()
    base = _entry(doc, "00_Base")
    failed = {"model": "m", "pid": 900, "kind": "micro", "run": None, "status": "error", "error": "out of memory"}
    base["warm"] = [r for r in base["warm"] if r["kind"] != "micro"] + [failed]
    analyse(doc)
    assert (base["micro_ms"], base["micro_warmup"], base["micro_warmup_length"]) == (None, None, None)
    assert base["rank_warm"] == 3, "the failed micro record does not touch the warm runs"


def test_max_abs_cold_minus_warm_counts_an_entry_slower_warm_than_cold():
    """Catches max |cold - warm| computed without the abs (an entry slower warm than cold would be missed)."""
    doc = fake_field_doc()
    steady = _entry(doc, "11_Steady")
    for record, ms in zip((r for r in steady["warm"] if r["kind"] == "run"), (61.0, 60.0, 60.2)):
        record["runtime_ms"] = ms
    analyse(doc)
    assert steady["cold_minus_warm_ms"] == pytest.approx(22.0333333 - 60.1), "the sign is kept per entry"
    assert doc["ranking"]["max_abs_cold_minus_warm_ms"] == pytest.approx(60.1 - 22.0333333)
    assert fake_field_doc()["ranking"]["max_abs_cold_minus_warm_ms"] == pytest.approx(30.0 - 15.1)


def test_the_ranked_list_is_in_cold_rank_order():
    """Catches ranking.ranked listed in key order instead of cold-rank order."""
    doc = fake_field_doc()
    assert doc["ranking"]["ranked"] == ["11_Steady", "10_Fast", "10_Fastlite", "00_Base"]


def test_a_pair_runtime_ratio_is_child_over_parent_and_an_equal_runtime_is_not_slower():
    """Catches the pair's runtime ratio inverted (parent / child) and a child as fast as its parent called slower."""
    doc = fake_field_doc()
    (pair,) = doc["ranking"]["pairs"]
    assert pair["runtime_ratio_cold"] == pytest.approx(22.5 / 20.5)
    assert pair["runtime_ratio_warm"] == pytest.approx(9.05 / 10.05)
    for record in _entry(doc, "10_Fastlite")["cold"]:  # the same cold runs as its parent, 10_Fast
        record["runtime_ms"] = {1: 20.0, 2: 21.0, 3: 20.5}[record["run"]]
    analyse(doc)
    (pair,) = doc["ranking"]["pairs"]
    assert pair["runtime_ratio_cold"] == 1.0 and pair["child_slower_cold"] is False


def test_the_noise_study_is_scored_under_the_documents_year():
    """Catches the noise study run under 2024's weights when the document ranks under another year."""
    doc = fake_field_doc()
    assert {p: n["year"] for p, n in doc["ranking"]["noise"].items()} == {"cold": "2024", "warm": "2024"}
    doc["year"] = "2026"
    analyse(doc)
    assert {p: n["year"] for p, n in doc["ranking"]["noise"].items()} == {"cold": "2026", "warm": "2026"}


def test_a_use_prune_variant_is_paired_with_the_unpruned_entry_of_its_model():
    """Catches a use_prune variant's parent looked up among the pruned entries (so it pairs with itself)."""
    doc = fake_field_doc()
    steady = _entry(doc, "11_Steady")
    steady["model_id"], steady["use_prune"] = 10, True  # model 10 run with use_prune: its parent is 10_Fast
    analyse(doc)
    assert [(p["parent"], p["child"]) for p in doc["ranking"]["pairs"]] == [
        ("10_Fast", "11_Steady"), ("10_Fast", "10_Fastlite")]
