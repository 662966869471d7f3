"""Notebook 02 (iterative pruning) in quick mode, run first from a fresh clone (no sample data yet): every
criterion's steps, the official references, the figures, the explorer; run again with another timing setting it
times every step afresh."""
from __future__ import annotations

import math

import pytest

from tests.notebooks.harness import assert_figure, read_json, run_notebook

FIGURES = ("02_trajectory", "02_widths", "02_ntire_score")


@pytest.mark.notebook
def test_02_iterative_pruning_quick(zoo_env, tmp_path):
    data = tmp_path / "data" / "sample"  # missing: the notebook makes the embedded sample, as from a fresh clone
    dirs = run_notebook("02_iterative_pruning.ipynb", tmp_path, data_dir=data)  # quick mode: 1 thread by default
    assert (data / "DIV2K_LSDIR_valid_HR").is_dir()
    figures, results = dirs["figures"], dirs["results"]
    summary = read_json(results / "02_iterative_pruning.json")
    assert set(summary["runs"]) == {"l1", "l2", "taylor", "random"}
    for criterion, records in summary["runs"].items():
        assert [r["step"] for r in records] == [0, 1, 2], criterion
        start, last = records[0], records[-1]
        assert start["config"]["prune_channels"] == [30] * 12 and start["flops_g"] == pytest.approx(11.991, abs=1e-3)
        assert last["flops_g"] < start["flops_g"] and last["params_m"] < start["params_m"]
        assert sum(start["widths"].values()) - sum(last["widths"].values()) == 24  # 2 steps of 12 channels
        for r in records:
            assert 20.0 < r["psnr_after"] < 40.0 and math.isfinite(r["ntire_score"]) and r["latency_ms"] > 0
        assert all(r["finetune"]["iterations"] == 8 for r in records[1:])
    starts = [records[0] for records in summary["runs"].values()]
    for key in ("latency_ms", "latency_ratio", "latency_ratio_ci", "latency_pairs", "ntire_score", "ntire_score_ci"):
        assert len({str(r[key]) for r in starts}) == 1, f"step 0 has one {key} for every criterion"
    for record in [r for records in summary["runs"].values() for r in records] + list(summary["references"].values()):
        low, high = record["latency_ratio_ci"]
        assert low <= record["latency_ratio"] <= high and record["latency_pairs"] >= 3
        assert record["ntire_score_ci"][0] <= record["ntire_score"] <= record["ntire_score_ci"][1]
        assert record["latency_stopped_by"] in ("precision", "time cap", "max runs")
    verdict = summary["speed_verdict"]
    assert verdict.startswith(("too wide to rank the criteria by speed", "fastest final model first"))
    assert set(summary["references"]) == {"RLFN", "SlimRLFN", "SlimRLFN-prune"}
    assert summary["references"]["SlimRLFN-prune"]["params_m"] == pytest.approx(0.1971, abs=1e-4)
    assert summary["references"]["SlimRLFN"]["psnr"] == pytest.approx(summary["runs"]["l1"][0]["psnr_after"])
    assert summary["device_info"]["device"] == "cpu" and summary["quick"] is True
    assert summary["runs"]["l1"][0]["latency"]["threads"] == 1 and summary["settings"]["cpu_threads"] == 1
    for stem in FIGURES:
        png = figures / f"{stem}.png"
        assert str(png) in summary["figures"]
        assert_figure(png)
    for criterion in summary["runs"]:
        (run_dir,) = (results / "prune").glob(f"{criterion}-*")
        assert (run_dir / "final.pth").is_file() and (run_dir / "records.jsonl").is_file()
    assert (results / "02_steps.csv").is_file()
    import nbformat

    executed = nbformat.read(dirs["executed"], as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) == 1, "one widget (the explorer); progress bars leave plain HTML, not widgets"
    text = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "1 thread, load average" in text
