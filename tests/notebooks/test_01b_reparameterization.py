"""Notebook 01b (reparameterization) in quick mode: branch counts, equivalence of the fused model, timings."""
from __future__ import annotations

import pytest

from tests.notebooks.harness import read_json


@pytest.mark.notebook
def test_quick_run_writes_its_results(fresh_clone_workbook):
    dirs = fresh_clone_workbook  # 01b run in quick mode by the newcomer's `make workbook`
    results = read_json(dirs["results"] / "01b_reparameterization.json")
    assert results["quick"] is True and results["device_info"]["device_type"] == "cpu"
    assert results["branch_counts"] == {"default": 4, "with_edge": 7}
    assert results["parameters"]["deploy (fused)"] == 207774  # the official SlimRLFN count
    assert results["parameters"]["train-time (default branches)"] > results["parameters"]["deploy (fused)"]
    assert len(results["branch_table"]) == 18
    for report in results["equivalence"].values():
        assert report["float64"]["relative"] < 1e-9 and report["float32"]["relative"] < 1e-4
    assert results["timing"]["cpu_threads"] == 1  # quick mode times on one thread
    variants = results["timing"]["variants"]
    assert set(variants) == {"train-time (branches)", "train-time (online fusion)", "fused (deploy)"}
    assert all(len(v["times_ms"]) == results["timing"]["runs"] and v["median_ms"] > 0 for v in variants.values())
