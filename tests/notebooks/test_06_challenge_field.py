"""Notebook 06 (the field study) in quick mode on the NTIRE 2024 ESR repository of ../shared: what it writes."""
from __future__ import annotations

import math

import pytest

from slimrlfn.field.report import SUMMARY_KEYS
from tests.notebooks.harness import assert_figure, read_json, run_notebook


@pytest.mark.notebook
def test_06_quick_mode_ranks_four_entries_cold_and_warm(esr_repo, set5_dir, sample_dir, tmp_path):
    dirs = run_notebook("06_challenge_field.ipynb", tmp_path, data_dir=sample_dir, challenge_repo=str(esr_repo),
                        field_data_dirs=[str(set5_dir)])
    summary = read_json(dirs["results"] / "06_challenge_field.json")
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["quick"] is True and summary["runs"] == 2 and summary["on_gpu"] is False
    entries = summary["entries"]
    assert sorted(e["key"] for e in entries) == ["00_RLFN_baseline", "21_SlimRLFN", "38_SPAN", "39_SPANtiny"]
    for name in ("rank_cold", "rank_warm", "rank_cold_2026", "rank_warm_2026"):
        assert sorted(e[name] for e in entries) == [1, 2, 3, 4], f"{name} is a permutation"
    baseline = next(e for e in entries if e["key"] == summary["baseline"])
    assert summary["baseline"] == "00_RLFN_baseline"
    for score in ("score_cold", "score_warm", "score_cold_2026", "score_warm_2026"):
        assert baseline[score] == pytest.approx(math.exp(2)) == pytest.approx(7.389, abs=5e-4)
    assert -1 <= summary["tau"] <= 1 and -1 <= summary["tau_2026"] <= 1
    assert [(p["parent"], p["child"]) for p in summary["pairs"]] == [("38_SPAN", "39_SPANtiny")]
    assert next(e for e in entries if e["key"] == "00_RLFN_baseline")["psnr"]["Set5"] == pytest.approx(30.206, abs=5e-4)
    assert "GPU question" in summary["conclusion"] and "--device cuda" in summary["gpu_command"]
    field = read_json(summary["field_json"])
    for entry in field["entries"]:
        assert len(entry["cold"]) == 2 and len({r["pid"] for r in entry["cold"]}) == 2
        assert all(len(r["parts"]["Set5"]["ms"]) == 5 for r in entry["cold"] + entry["warm"] if r["kind"] == "run")
    for stem in ("06_field_bump", "06_field_psnr_runtime", "06_field_cold_minus_warm"):
        assert_figure(dirs["figures"] / f"{stem}.png")
        assert str(dirs["figures"] / f"{stem}.png") in summary["figures"]
    assert [p.rsplit("/", 1)[-1] for p in summary["tables"]] == ["06_field_quick.tex", "06_field_quick.md",
                                                                 "06_field_quick.csv"]
