"""Notebook 02 (iterative pruning): committed clean with the workbook parameters, and a papermill run in quick
mode that checks the JSON and the figures it writes."""
from __future__ import annotations

import json
import math
from pathlib import Path

import nbformat
import pytest

from slimrlfn.errors import UserError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "02_iterative_pruning.ipynb"
WORKBOOK_PARAMETERS = ["quick", "data_dir", "figures_dir", "results_dir", "device"]
FIGURES = ("02_trajectory", "02_widths", "02_ntire_score")


def test_parameters_cell_starts_with_the_workbook_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    lines = [line for line in cell.source.splitlines() if line.strip()]
    assigned = [line.split(":")[0].strip() for line in lines]
    assert assigned[:5] == WORKBOOK_PARAMETERS
    assert all(":" in line.split("=")[0] and "#" in line for line in lines), "typed and commented"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.fixture
def zoo_env(monkeypatch):
    """The kernel runs in notebooks/: point it at the official checkpoints; skip when they are missing."""
    from slimrlfn.zoo import find_checkpoint

    folders = set()
    for name in ("slimrlfn", "slimrlfn_prune"):
        try:
            folders.add(find_checkpoint(name, download=False).resolve().parent)
        except UserError as exc:
            pytest.skip(f"official checkpoints not found (set SLIMRLFN_MODEL_ZOO): {exc}")
    if len(folders) != 1:
        pytest.skip(f"official checkpoints are spread over several folders: {sorted(map(str, folders))}")
    monkeypatch.setenv("SLIMRLFN_MODEL_ZOO", str(folders.pop()))
    monkeypatch.setenv("SLIMRLFN_OFFLINE", "1")


@pytest.fixture
def sample_dir(tmp_path_factory):
    from slimrlfn.data import make_sample

    out = tmp_path_factory.mktemp("sample")
    make_sample(out, progress=False)
    return out


@pytest.mark.notebook
def test_02_iterative_pruning_quick(zoo_env, sample_dir, tmp_path):
    import matplotlib.image as mpimg
    import papermill

    figures, results = tmp_path / "figures", tmp_path / "results"
    papermill.execute_notebook(
        str(NOTEBOOK), str(tmp_path / NOTEBOOK.name),
        parameters=dict(quick=True, data_dir=str(sample_dir), figures_dir=str(figures), results_dir=str(results),
                        device="cpu", cpu_threads=1),  # tiny tensors: one thread, no oversubscription on a busy CI box
        cwd=str(NOTEBOOK.parent), kernel_name="python3", progress_bar=False,
    )
    summary = json.loads((results / "02_iterative_pruning.json").read_text())
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
    assert set(summary["references"]) == {"SlimRLFN", "SlimRLFN-prune"}
    assert summary["references"]["SlimRLFN-prune"]["params_m"] == pytest.approx(0.1971, abs=1e-4)
    assert summary["references"]["SlimRLFN"]["psnr"] == pytest.approx(summary["runs"]["l1"][0]["psnr_after"])
    assert summary["device_info"]["device"] == "cpu" and summary["quick"] is True
    assert summary["runs"]["l1"][0]["latency"]["threads"] == 1
    for stem in FIGURES:
        png = figures / f"{stem}.png"
        assert str(png) in summary["figures"] and png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
        assert float(mpimg.imread(png)[..., :3].std()) > 0.01, f"{png} is blank"
    for criterion in summary["runs"]:
        (run_dir,) = (results / "prune").glob(f"{criterion}-*")
        assert (run_dir / "final.pth").is_file() and (run_dir / "records.jsonl").is_file()
