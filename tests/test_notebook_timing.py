"""Notebook 04 (the warm-up timing study) through papermill in quick mode, checking the JSON it writes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimrlfn.errors import UserError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "04_warmup_timing_study.ipynb"
LABELS = ["RLFN", "SlimRLFN", "SlimRLFN-prune"]


@pytest.fixture
def zoo_checkpoints():
    from slimrlfn.zoo import ZOO, find_checkpoint

    for name in ZOO:
        try:
            find_checkpoint(name, download=False)
        except UserError as exc:
            pytest.skip(f"official checkpoints not found (set SLIMRLFN_MODEL_ZOO): {exc}")


def test_parameters_cell_has_the_workbook_names_first():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    lines = [line for line in cell.source.splitlines() if line.strip()]
    names = [line.split(":")[0].strip() for line in lines]
    assert names[:5] == ["quick", "data_dir", "figures_dir", "results_dir", "device"]
    assert all("#" in line for line in lines) and all(": " in line.split("=")[0] for line in lines)
    from papermill.translators import PythonTranslator

    parsed = PythonTranslator.inspect(cell)  # papermill skips (with a warning) lines it cannot parse
    assert [p.name for p in parsed] == names and all(p.help for p in parsed)


@pytest.mark.notebook
def test_04_quick_mode_writes_both_tables(zoo_checkpoints, tmp_path):
    import papermill

    results, figures = tmp_path / "results", tmp_path / "figures"
    papermill.execute_notebook(
        str(NOTEBOOK), str(tmp_path / NOTEBOOK.name),
        parameters=dict(quick=True, data_dir=str(tmp_path / "data"), figures_dir=str(figures),
                        results_dir=str(results), device="cpu"),
        cwd=str(NOTEBOOK.parent), kernel_name="python3", progress_bar=False,
    )
    summary = json.loads((results / "04_warmup_timing_study.json").read_text())
    assert summary["mode"] == "quick" and summary["runs"] == {"separate": 3, "consecutive": 3}
    for scenario, star in (("separate", ""), ("consecutive", "*")):
        table = summary["tables"][scenario]
        assert [row["label"] for row in table["rows"]] == [label + star for label in LABELS]
        assert table["errors"] == []
        for row in table["rows"]:
            assert len(row["runs"]) == 3 and all(v is not None and v > 0 for v in row["runs"])
    raw = json.loads((results / "04_timing_separate_quick.json").read_text())
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
