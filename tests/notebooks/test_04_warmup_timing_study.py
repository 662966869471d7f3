"""Notebook 04 (the warm-up timing study) in quick mode: both seed-style tables, fresh processes, the figures."""
from __future__ import annotations

import pytest

from tests.notebooks.harness import read_json

LABELS = ["RLFN", "SlimRLFN", "SlimRLFN-prune"]


@pytest.mark.notebook
def test_04_quick_mode_writes_both_tables(workbook_01_to_04):
    dirs = workbook_01_to_04  # 04 run in quick mode by the workbook runner on the embedded sample
    results, figures = dirs["results"], dirs["figures"]
    summary = read_json(results / "04_warmup_timing_study.json")
    assert summary["mode"] == "quick" and summary["runs"] == {"separate": 3, "consecutive": 3}
    for scenario, star in (("separate", ""), ("consecutive", "*")):
        table = summary["tables"][scenario]
        assert [row["label"] for row in table["rows"]] == [label + star for label in LABELS]
        assert table["errors"] == []
        for row in table["rows"]:
            assert len(row["runs"]) == 3 and all(v is not None and v > 0 for v in row["runs"])
    raw = read_json(results / "04_timing_separate_quick.json")
    assert len({r["pid"] for r in raw["records"]}) == 9, "every separate run in its own process"
    assert all(len(r["samples"]) == 4 for r in raw["records"]), "4 valid images of the sample per run"
    assert summary["fastest"]["cold"] in ("rlfn", "slimrlfn", "slimrlfn_prune")
    assert "Fastest cold:" in summary["conclusion"] and "Fastest warm:" in summary["conclusion"]
    assert "not a GPU measurement" in summary["device"]
    assert set(summary["warmup_lengths"]) == set(LABELS)
    for stem in ("04_latency_traces", "04_cold_vs_warm", "04_first_image_share"):
        assert (figures / f"{stem}.png").stat().st_size > 0
        assert (figures / f"{stem}.pdf").read_bytes()[:5] == b"%PDF-"
        assert str(figures / f"{stem}.png") in summary["figures"]
