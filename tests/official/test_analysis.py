"""slimrlfn.official.analysis on the organisers' own files: every published figure reproduced, then re-scored."""
from __future__ import annotations

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.official.analysis import analyse_official, find_inputs
from slimrlfn.official.results import read_results_table
from tests.conftest import shared_dir
from tests.official.helpers import write_log, write_results

#: The main-track scores of the 2026 entries as published (2026 weights against SPAN's 7.74 ms, 9.83 G, 0.151 M on
#: the figures results.txt prints), then with the first valid image removed.
SCORES_2026 = {
    "00_SPAN": (7.389, 7.389), "01_PDS": (5.831, 5.831), "04_ZenoSR": (101076.185, 91150.841),
    "05_SPANMamba_single_1_4T05": (247088.291, 245669.928), "06_HAESR": (3656420552.187, 3255043400.354),
    "009_RFDN_SPAN": (78.959, 74.539), "10_HFENet": (4767.764, 4146.991), "11_VSCINet": (400668.001, 340475.317),
    "12_DWMamba": (713645598476.943, 609576064663.817), "15_DSCF_Fused": (7.192, 6.720),
    "16_PKDSR_FINAL_CKPT": (5.987, 5.975), "17_AMCANet": (90.189, 90.421), "18_DISP": (6.060, 6.060),
    "20_ERRN2": (14.233, 13.713), "21_SAFMN": (287162201765778.5, 271293069506913.44),
    "22_SPANV2_ESR_C2": (3.867, 3.643)}


def _repo(year: str):
    repo = shared_dir() / f"ntire{year}_esr"
    if not (repo / "results.json").is_file():
        pytest.skip(f"the NTIRE {year} ESR repository not found in {repo} (set SLIMRLFN_SHARED)")
    return repo


def _approx(value: float):
    return pytest.approx(value, abs=1e-3) if abs(value) < 1e4 else pytest.approx(value, rel=1e-8)


@pytest.mark.shared
def test_every_published_2026_figure_is_reproduced_and_scored():
    repo = _repo("2026")
    doc = analyse_official(challenge_repo=repo, load=False)
    table = read_results_table(repo / "results.txt")
    assert doc["year"] == "2026" and doc["device"] == "RTX A6000, organisers' run, 2026"
    assert doc["images"] == {"valid": 200, "test": 200} and doc["table_check"] == []
    assert [e["key"] for e in doc["entries"]] == list(table) and len(table) == 16
    for e in doc["entries"]:
        row = table[e["key"]]
        assert e["runtimes"]["official_ms"] == pytest.approx(row["ave_ms"], abs=0.005 + 1e-9), e["key"]
        assert e["runtimes"]["valid_ms"] == pytest.approx(row["valid_ms"], abs=0.005 + 1e-9)
        assert e["runtimes"]["test_ms"] == pytest.approx(row["test_ms"], abs=0.005 + 1e-9)
        official, rescored = SCORES_2026[e["key"]]
        assert e["protocols"]["official"]["score"] == _approx(official), e["key"]
        assert e["protocols"]["first_image_removed"]["score"] == _approx(rescored), e["key"]
        assert e["load_forwards"] == {"count": None, "why": "not loaded (--no_load)"}
    by_key = {e["key"]: e for e in doc["entries"]}
    dscf = by_key["15_DSCF_Fused"]
    assert (dscf["protocols"]["official"]["values"]["runtime_ms"],
            dscf["protocols"]["first_image_removed"]["values"]["runtime_ms"]) == (7.88, 7.57)
    assert {k for k, e in by_key.items() if not e["gate"]["pass"]} == {"009_RFDN_SPAN", "21_SAFMN"}
    assert {k: e["gate"]["by_rounding"] for k, e in by_key.items() if e["gate"]["by_rounding"]} == {
        "01_PDS": ["valid"], "04_ZenoSR": ["valid"], "11_VSCINet": ["valid"], "15_DSCF_Fused": ["test"],
        "17_AMCANet": ["valid"]}
    changes = doc["changes"]
    assert changes["main"]["tau"] == 1.0 and changes["main"]["movers"] == [] and len(changes["main"]["compared"]) == 14
    assert changes["runtime"]["tau"] == pytest.approx(17 / 18)
    assert [(m["key"], m["from"], m["to"]) for m in changes["runtime"]["movers"]] == [("00_SPAN", 4, 5),
                                                                                      ("15_DSCF_Fused", 5, 4)]
    assert changes["main"]["eligibility_changes"] == changes["runtime"]["eligibility_changes"] == []
    for track, rank in (("flops", 2), ("params", 1)):
        assert changes[track]["eligibility_changes"] == [
            {"key": "15_DSCF_Fused", "joins": True, "why_not": ["runtime_ms 7.88 > SPAN's 7.74"], "rank_after": rank}]
    assert doc["baseline"]["stated_ms"] == 7.74 and round(doc["baseline"]["results_official_ms"], 2) == 7.74


@pytest.mark.shared
def test_the_2024_baseline_pays_a_second_for_its_first_image():
    repo = _repo("2024")
    doc = analyse_official(challenge_repo=repo, load=False)
    (rlfn,) = doc["entries"]
    r = rlfn["runtimes"]
    assert doc["year"] == "2024" and rlfn["key"] == "00_RLFN_baseline"
    assert round(r["official_ms"], 2) == 12.21 and round(r["first_ms"], 2) == 1033.76
    assert round(r["median_valid_ms"], 2) == 10.84 and round(r["rescored_ms"], 2) == 9.65
    base = doc["baseline"]
    assert base["stated_ms"] == 13.54 and base["log_runs"] == 3 and round(base["log_mean_ms"], 2) == 13.60
    assert round(base["log_last_ms"], 2) == 12.21, "results.json holds the log's last run"


def test_inputs_are_found_in_a_repository_and_refused_when_absent(tmp_path):
    repo = tmp_path / "NTIRE2026_ESR"
    write_results(repo)
    write_log(repo / "NTIRE2026-EfficientSR.log", [("00_Base", 30.0, 10.0, 2)])
    results, log, year = find_inputs(repo)
    assert (results.name, log.name, year) == ("results.json", "NTIRE2026-EfficientSR.log", "2026")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="--results / --log: give the organisers' results.json"):
        find_inputs(empty)
    with pytest.raises(UserError, match="--year: give the challenge year"):
        find_inputs(results=write_results(tmp_path / "plain"))
    assert find_inputs(results=tmp_path / "plain" / "results.json", year=2024)[2] == "2024"


def test_a_made_up_year_is_analysed_and_a_year_without_rules_is_not_ranked(tmp_path):
    path = write_results(tmp_path / "r")
    doc = analyse_official(results=path, year="2026", load=False)
    assert doc["scored"] and doc["tracks"] == ["main", "runtime", "flops", "params"]
    assert doc["sources"]["load_forwards"] == "not loaded"
    base = next(e for e in doc["entries"] if e["key"] == "00_Base")
    assert base["runtimes"]["official_ms"] == pytest.approx((32.5 + 10.0) / 2)
    old = analyse_official(results=path, year="2023", load=False)
    assert old["scored"] is False and old["changes"] is None and "protocols" not in old["entries"][0]
