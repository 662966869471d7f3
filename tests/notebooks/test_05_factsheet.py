"""Notebook 05 (the factsheet) in quick mode, on the results of notebooks 01-04 run in quick mode by the workbook
runner first; checks the JSON, the tables and the figures it writes."""
from __future__ import annotations

import csv
import math

import pytest

from tests.notebooks.harness import NOTEBOOKS, assert_figure, read_json

LABELS = ["RLFN", "SlimRLFN", "SlimRLFN-prune"]
FIGURES = ("05_tradeoff", "05_pruning_trajectory", "05_latency_traces", "05_cold_vs_warm")


@pytest.mark.notebook
def test_05_factsheet_quick(fresh_clone_workbook):
    dirs = fresh_clone_workbook  # 05 run in quick mode by the newcomer's `make workbook`, after 01-04
    summary = read_json(dirs["results"] / "05_factsheet.json")
    assert summary["models"] == LABELS and summary["inputs_quick"] is True
    assert "cpu" in summary["device"] and "not a GPU measurement" in summary["device"]

    clone = dirs["clone"]  # the summary names the files of the clone's run relative to the clone

    tables = [clone / p for p in summary["tables"]]
    assert {p.name for p in tables} == {"factsheet.tex", "factsheet.md", "factsheet.csv", "factsheet.json"} | {
        f"factsheet_{slug}.{ext}" for slug in ("rlfn", "slimrlfn", "slimrlfn_prune") for ext in ("tex", "md", "csv")}
    assert all(p.is_file() and p.stat().st_size > 0 and p.parent == dirs["results"] / "factsheet" for p in tables)
    figures = [clone / p for p in summary["figures"]]
    assert {p.name for p in figures} == {f"{stem}.{ext}" for stem in FIGURES for ext in ("png", "pdf")}
    for stem in FIGURES:
        assert_figure(dirs["figures"] / f"{stem}.png")

    values = summary["factsheet"]["values"]
    prune, rlfn = values["SlimRLFN-prune"], values["RLFN"]
    assert prune["params"]["value"] == pytest.approx(0.1971, abs=1e-4)
    assert prune["flops"]["value"] == pytest.approx(11.2952, abs=1e-4)
    assert prune["activations"]["value"] == pytest.approx(72.7508, abs=1e-4) and prune["num_conv"]["value"] == 51
    assert rlfn["params"]["value"] == pytest.approx(0.3172, abs=1e-4) and rlfn["num_conv"]["value"] == 39
    assert rlfn["score_cold"]["value"] == pytest.approx(math.exp(2.0))
    assert rlfn["score_warm"]["value"] == pytest.approx(math.exp(2.0))
    for label in LABELS:
        row = values[label]
        assert 20.0 < row["psnr_valid"]["value"] < 40.0 and row["psnr_valid"]["n"] == 4
        assert row["psnr_test"]["value"] is None and "quick mode" in row["psnr_test"]["note"]
        assert row["memory"]["value"] is None and "peak RSS" in row["memory"]["note"]  # CPU: not measured
        for key in ("runtime_cold", "runtime_warm"):
            assert 1.0 < row[key]["value"] < 10_000.0 and row[key]["n"] >= 2
            assert row[key]["measured_on"] == summary["device"]
        for key in ("score_cold", "score_warm"):
            assert 0.5 < row[key]["value"] < 50.0  # 0.7 e^(2t) + ...: e^2 for RLFN, less for faster, smaller models
    assert values["SlimRLFN-prune"]["score_cold"]["value"] < math.exp(2.0) * 1.5

    csv_rows = list(csv.DictReader((dirs["results"] / "factsheet" / "factsheet.csv").open()))
    flops = next(r for r in csv_rows if r["model"] == "SlimRLFN-prune" and r["quantity"] == "flops")
    assert float(flops["value"]) == pytest.approx(11.2952, abs=1e-4)
    tex = (dirs["results"] / "factsheet" / "factsheet_slimrlfn_prune.tex").read_text()
    assert r"\toprule" in tex and "0.1971" in tex and "11.2952" in tex and r"n/a\textsuperscript{a}" in tex
    md = (dirs["results"] / "factsheet" / "factsheet.md").read_text()
    assert "| FLOPs [G] (fvcore, 1\u00d73\u00d7256\u00d7256) | 19.6749 | 11.9912 | 11.2952 |" in md

    executed = read_json(dirs["executed"] / "05_factsheet.ipynb")
    shown = [o for c in executed["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert sum("image/png" in o.get("data", {}) for o in shown) >= len(FIGURES) + 1  # and 03's SR crops
    assert any("text/markdown" in o.get("data", {}) for o in shown), "the table is rendered as Markdown"


@pytest.mark.notebook
def test_05_without_the_results_of_01_to_04_fails_in_one_line(tmp_path):
    from slimrlfn.workbook import run_workbook

    (tmp_path / "data").mkdir()
    summary = run_workbook(mode="quick", data_dir=tmp_path / "data", device="cpu", only=["05_"],
                           out_dir=tmp_path / "run", figures_dir=tmp_path / "figures", notebooks_dir=NOTEBOOKS)
    (row,) = summary["notebooks"]
    assert row["status"] == "failed"
    assert "UserError" in row["error"] and "01_model_definition.json: no such file" in row["error"]
    assert "notebooks/01_model_definition.ipynb" in row["error"]
