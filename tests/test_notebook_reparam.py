"""Notebook 01b (reparameterization): committed clean, and a papermill run in quick mode checked
through the JSON it writes."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01b_reparameterization.ipynb"
PARAMETER_NAMES = ["quick", "data_dir", "figures_dir", "results_dir", "device"]


def test_committed_clean_with_the_workbook_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    lines = [line for line in cell.source.splitlines() if line.strip()]
    assert [line.split(":")[0] for line in lines] == PARAMETER_NAMES
    assert all("#" in line for line in lines)


@pytest.mark.notebook
def test_quick_run_writes_its_results(tmp_path):
    import papermill

    results_dir = tmp_path / "results"
    papermill.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "executed.ipynb"), cwd=str(NOTEBOOK.parent), progress_bar=False,
        parameters={"quick": True, "results_dir": str(results_dir), "figures_dir": str(tmp_path / "fig"),
                    "device": "cpu"})
    results = json.loads((results_dir / "01b_reparameterization.json").read_text())
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
