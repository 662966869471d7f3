"""Notebook 06 (the field study) in quick mode on the NTIRE 2024 ESR repository of ../shared, as the newcomer's
`make workbook` runs it (its defaults: entries 0 21 38 39, Set5 of ../shared, 2 runs): what it writes."""
from __future__ import annotations

import math

import pytest

from slimrlfn.field.report import SUMMARY_KEYS
from tests.conftest import shared_dir
from tests.notebooks.harness import assert_figure, read_json


@pytest.mark.notebook
def test_06_quick_mode_ranks_four_entries_cold_and_warm(fresh_clone_workbook):
    for needed in ("ntire2024_esr/test_demo.py", "ntire2026_esr/results.json", "datasets/Set5"):
        if not (shared_dir() / needed).exists():
            pytest.skip(f"no {needed} in {shared_dir()}: 06's defaults need the NTIRE 2024 repository, the organisers' "
                        "2026 results.json and Set5")
    dirs, clone = fresh_clone_workbook, fresh_clone_workbook["clone"]
    summary = read_json(dirs["results"] / "06_challenge_field.json")
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["quick"] is True and summary["runs"] == 2 and summary["on_gpu"] is False
    entries = summary["entries"]
    assert sorted(e["key"] for e in entries) == ["00_RLFN_baseline", "21_SlimRLFN", "38_SPAN", "39_SPANtiny"]
    for name in ("rank_cold", "rank_warm"):
        assert sorted(e[name] for e in entries) == [1, 2, 3, 4], f"{name} is a permutation"
        assert sorted(e["years"]["2026"][name] for e in entries) == [1, 2, 3, 4], f"2026 {name} is a permutation"
    baseline = next(e for e in entries if e["key"] == summary["baseline"])
    assert summary["baseline"] == "00_RLFN_baseline"
    for score in ("score_cold", "score_warm"):
        assert baseline[score] == pytest.approx(math.exp(2)) == pytest.approx(7.389, abs=5e-4)
        assert baseline["years"]["2026"][score] == pytest.approx(math.exp(2))
    assert summary["year"] == "2024" and -1 <= summary["tau"] <= 1 and -1 <= summary["taus"]["2026"] <= 1
    assert [(p["parent"], p["child"]) for p in summary["pairs"]] == [("38_SPAN", "39_SPANtiny")]
    assert next(e for e in entries if e["key"] == "00_RLFN_baseline")["psnr"]["Set5"] == pytest.approx(30.206, abs=5e-4)
    assert "GPU question" in summary["conclusion"] and "--device cuda" in summary["gpu_command"]
    named = [summary["field_json"], *summary["figures"], *summary["tables"], summary["official"]["json"],
             *summary["official"]["figures"], *summary["official"]["tables"]]
    assert not [p for p in named if p.startswith("/")], "the summary names its files relative to the checkout"
    field = read_json(clone / summary["field_json"])
    for entry in field["entries"]:
        assert len(entry["cold"]) == 2 and len({r["pid"] for r in entry["cold"]}) == 2
        assert all(len(r["parts"]["Set5"]["ms"]) == 5 for r in entry["cold"] + entry["warm"] if r["kind"] == "run")
    for stem in ("06_field_bump", "06_field_psnr_runtime", "06_field_cold_minus_warm"):
        assert_figure(dirs["figures"] / f"{stem}.png")
        assert f"figures/{stem}.png" in summary["figures"]
    assert [p.rsplit("/", 1)[-1] for p in summary["tables"]] == ["06_field_quick.tex", "06_field_quick.md",
                                                                 "06_field_quick.csv"]

    # The notebook leads with the organisers' own 2026 run (no GPU, no data), re-scored with the first image removed,
    # and compares the local field with the organisers' file of its own repository.
    official = summary["official"]
    assert official["year"] == "2026" and official["device"] == "RTX A6000, organisers' run, 2026"
    assert official["tau"]["main"] == 1.0 and official["entries"] == 16
    assert {c["key"] for c in official["changes"]["params"]["eligibility_changes"] if c["joins"]} == {"15_DSCF_Fused"}
    assert official["first_image"]["15_DSCF_Fused"]["rescored_ms"] == pytest.approx(7.57, abs=0.005)
    for stem in ("06_official_bump", "06_official_first_image"):
        assert_figure(dirs["figures"] / f"{stem}.png")
    assert summary["comparison"]["common"] == 1  # the 2024 organisers' file holds the baseline alone
