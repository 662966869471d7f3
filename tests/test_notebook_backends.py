"""Notebook 04b (deployment paths) through papermill in quick mode, checking the JSON and figures it writes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from slimrlfn.errors import UserError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "04b_deployment_backends.ipynb"


@pytest.fixture
def zoo_checkpoints():
    from slimrlfn.zoo import ZOO, find_checkpoint

    for name in ZOO:
        try:
            find_checkpoint(name, download=False)
        except UserError as exc:
            pytest.skip(f"official checkpoints not found (set SLIMRLFN_MODEL_ZOO): {exc}")


def test_parameters_parse_for_papermill():
    import nbformat
    from papermill.translators import PythonTranslator

    nb = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    names = [line.split(":")[0].strip() for line in cell.source.splitlines() if line.strip()]
    parsed = PythonTranslator.inspect(cell)  # papermill skips (with a warning) lines it cannot parse
    assert [p.name for p in parsed] == names and all(p.help for p in parsed)
    assert names[:5] == ["quick", "data_dir", "figures_dir", "results_dir", "device"]


@pytest.mark.notebook
def test_04b_quick_mode_compares_every_path(zoo_checkpoints, tmp_path):
    import matplotlib.image
    import papermill

    from slimrlfn.backends import available_backends, resolve_backend
    import torch

    results, figures = tmp_path / "results", tmp_path / "figures"
    papermill.execute_notebook(
        str(NOTEBOOK), str(tmp_path / NOTEBOOK.name),
        parameters=dict(quick=True, data_dir=str(tmp_path / "data"), figures_dir=str(figures),
                        results_dir=str(results), device="cpu"),
        cwd=str(NOTEBOOK.parent), kernel_name="python3", progress_bar=False,
    )
    summary = json.loads((results / "04b_deployment_backends.json").read_text())
    comparison = json.loads((results / "04b_backends.json").read_text())
    cpu = torch.device("cpu")
    expected = ["auto", *[b for b in available_backends(cpu) if b != "compile"]]
    assert summary["mode"] == "quick" and summary["backends"] == expected
    assert len(comparison["rows"]) == 3 * len(expected)
    for row in comparison["rows"]:
        assert row["size"] == [64, 64] and row["median_ms"] > 0 and 0 < row["peak_fraction"] < 2
        assert row["max_abs_diff"] is not None and row["max_abs_diff"] < 1e-2
        assert len(row["times_ms"]) == 3
    assert [f["model"] for f in summary["fastest"]] == ["rlfn", "slimrlfn", "slimrlfn_prune"]
    assert all(f["backend"] in expected for f in summary["fastest"])
    assert summary["conclusion"].startswith("On ")
    for key in (f"eager/separate", f"{resolve_backend('auto', cpu)}/consecutive"):
        study = json.loads(Path(summary["timing_studies"][key]).read_text())
        assert [r["status"] for r in study["records"]] == ["ok", "ok"]
    for stem in ("04b_flops_vs_speedup", "04b_backend_cold_warm"):
        for suffix in (".png", ".pdf"):
            assert (figures / f"{stem}{suffix}").stat().st_size > 5000
        pixels = matplotlib.image.imread(figures / f"{stem}.png")
        assert np.std(pixels) > 0.05  # not blank
