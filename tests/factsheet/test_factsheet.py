"""The factsheet (slimrlfn.factsheet*): values gathered from small synthetic results of notebooks 01-04, the
LaTeX / Markdown / CSV tables, n/a with its reason, the one-line error for a missing input, atomic writes."""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
from pathlib import Path

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.factsheet.command import add_factsheet_arguments, run_factsheet_from_args
from slimrlfn.factsheet.data import INPUTS, QUANTITIES, gather, load_inputs
from slimrlfn.factsheet.figures import tradeoff_figure, tradeoff_points
from slimrlfn.factsheet.tables import csv_table, latex_table, markdown_table, model_slug, write_tables
from slimrlfn.factsheet.write import write_factsheet

LABELS = ["RLFN", "SlimRLFN", "SlimRLFN-prune"]
COUNTS = {  # label: (params M, FLOPs G, activations M, convs), as notebook 01 writes them
    "RLFN": (0.317218, 19.67485952, 80.045184, 39),
    "SlimRLFN": (0.207774, 11.991174144, 74.061504, 51),
    "SlimRLFN-prune": (0.197134, 11.295181824, 72.750784, 51),
}
COLD = {"rlfn": 100.0, "slimrlfn": 80.0, "slimrlfn_prune": 82.0}
WARM = {"rlfn": 90.0, "slimrlfn": 75.0, "slimrlfn_prune": 74.0}
NAMES = {"rlfn": "RLFN", "slimrlfn": "SlimRLFN", "slimrlfn_prune": "SlimRLFN-prune"}
CPU_INFO = {"device": "cpu", "device_type": "cpu", "torch": "2.13.0+cpu", "threads": 2, "device_name": "Test CPU"}
TIMING_DEVICE = "Test CPU (cpu, 1 thread, torch 2.13.0+cpu) - CPU, not a GPU measurement"


def _write(path: Path, doc) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def _record(step: int, psnr: float, flops: float, params: float) -> dict:
    return {"step": step, "psnr_after": psnr, "psnr_before": psnr - 0.2, "flops_g": flops, "params_m": params,
            "latency_ratio": 0.9, "psnr_per_image": {"a": psnr, "b": psnr}, "widths": {"b1.c1_r": 30 - 6 * step}}


@pytest.fixture
def results(tmp_path) -> Path:
    """A results folder as notebooks 01-04 write it (quick mode, CPU), with only the keys the factsheet reads."""
    root = tmp_path / "results"
    arch = {"RLFN": "rlfn", "SlimRLFN": "slimrlfn", "SlimRLFN-prune": "slimrlfn"}
    _write(root / "01_model_definition.json", {
        "quick": True, "configs": {label: {"arch": arch[label]} for label in LABELS},
        "counts": [{"model": label, "num_parameters": p, "flops": f, "activations": a, "num_conv": c}
                   for label, (p, f, a, c) in COUNTS.items()]})
    _write(root / "02_iterative_pruning.json", {
        "quick": True, "device": "Test CPU (cpu, torch threads: 2)",
        "runs": {"l1": [_record(0, 29.8, 11.99, 0.2078), _record(1, 29.5, 11.5, 0.2010)]},
        "references": {
            "SlimRLFN": {"psnr": 29.8, "flops_g": 11.99, "params_m": 0.2078, "psnr_per_image": {"a": 1, "b": 2}},
            "SlimRLFN-prune": {"psnr": 29.7, "flops_g": 11.30, "params_m": 0.1971, "psnr_per_image": {"a": 1, "b": 2}}}})
    _write(root / "03_evaluation.json", {"quick": True, "splits": ["valid"], "data_dir": str(tmp_path / "data"),
                                         "crop": {"image": "a"}})
    _write(root / "eval" / "results.json", {
        f"result_{i}": {"model": label, "valid_ave_psnr": 29.0 + 0.01 * i, "valid_names": ["a", "b", "c", "d"],
                        "valid_memory": 500.0 + i, "memory_kind": "cpu_process_peak_rss", "device_info": CPU_INFO}
        for i, label in enumerate(LABELS)})
    _write(root / "04_warmup_timing_study.json", {
        "device": TIMING_DEVICE, "protocol": "ntire", "mode": "quick", "runs": {"separate": 3, "consecutive": 3},
        "cold_warm": {name: {"label": NAMES[name], "cold": {"mean": COLD[name], "std": 1.5, "n": 3},
                             "warm": {"mean": WARM[name], "std": 0.5, "n": 2}} for name in COLD}})
    for scenario in ("separate", "consecutive"):
        _write(root / f"04_timing_{scenario}_quick.json", {"scenario": scenario, "records": []})
    return root


def _edit(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _score(t, f, p, t0, f0, p0):  # written out independently of slimrlfn.metrics.score.ntire_score
    return 0.7 * math.exp(2 * t / t0) + 0.15 * math.exp(2 * f / f0) + 0.15 * math.exp(2 * p / p0)


# --------------------------------------------------------------------------- gathering


def test_gather_reads_every_value_from_the_results(results):
    sheet = gather(load_inputs(results))
    assert sheet.models == LABELS and sheet.quick
    prune = sheet.values["SlimRLFN-prune"]
    assert prune["params"].value == pytest.approx(0.197134) and prune["flops"].value == pytest.approx(11.295181824)
    assert prune["activations"].value == pytest.approx(72.750784) and prune["num_conv"].value == 51
    assert prune["psnr_valid"].value == pytest.approx(29.02) and prune["psnr_valid"].n == 4
    assert (prune["runtime_cold"].value, prune["runtime_cold"].spread, prune["runtime_cold"].n) == (82.0, 1.5, 3)
    assert (prune["runtime_warm"].value, prune["runtime_warm"].n) == (74.0, 2)
    for label in LABELS:
        for key in ("runtime_cold", "runtime_warm", "score_cold", "score_warm", "memory"):
            assert "Test CPU" in sheet.values[label][key].measured_on, (label, key)
        assert "any device" in sheet.values[label]["flops"].measured_on


def test_ntire_score_is_relative_to_rlfn(results):
    sheet = gather(load_inputs(results))
    assert sheet.values["RLFN"]["score_cold"].value == pytest.approx(math.exp(2.0))
    assert sheet.values["RLFN"]["score_warm"].value == pytest.approx(math.exp(2.0))
    p0, f0 = COUNTS["RLFN"][:2]
    p, f = COUNTS["SlimRLFN-prune"][:2]
    assert sheet.values["SlimRLFN-prune"]["score_cold"].value == pytest.approx(_score(82.0, f, p, 100.0, f0, p0))
    assert sheet.values["SlimRLFN-prune"]["score_warm"].value == pytest.approx(_score(74.0, f, p, 90.0, f0, p0))


def test_missing_values_are_none_with_the_reason(results):
    sheet = gather(load_inputs(results))
    for label in LABELS:
        test, memory = sheet.values[label]["psnr_test"], sheet.values[label]["memory"]
        assert test.value is None and "quick mode" in test.note
        assert memory.value is None and "peak RSS" in memory.note and "max_memory_allocated" in memory.note


def test_cuda_memory_and_the_test_split_are_reported(results):
    gpu = {"device": "cuda:0", "device_type": "cuda", "torch": "2.13.0", "threads": 8, "device_name": "Test GPU"}

    def full_mode(doc):
        for i, entry in enumerate(doc.values()):
            entry.update(memory_kind="cuda_max_allocated", valid_memory=12.5 + i, device_info=gpu)
            if entry["model"] != "RLFN":
                entry.update(test_ave_psnr=28.5, test_names=["t1", "t2"])

    _edit(results / "eval" / "results.json", full_mode)
    _edit(results / "03_evaluation.json", lambda d: d.update(quick=False, splits=["valid", "test"]))
    sheet = gather(load_inputs(results))
    assert sheet.values["SlimRLFN"]["memory"].value == pytest.approx(13.5)
    assert "Test GPU" in sheet.values["SlimRLFN"]["memory"].measured_on
    assert "not a GPU" not in sheet.values["SlimRLFN"]["memory"].measured_on
    assert sheet.values["SlimRLFN"]["psnr_test"].value == 28.5 and sheet.values["SlimRLFN"]["psnr_test"].n == 2
    rlfn_test = sheet.values["RLFN"]["psnr_test"]
    assert rlfn_test.value is None and "no test result" in rlfn_test.note


def test_a_model_missing_from_the_timing_study_has_no_runtime_and_no_score(results):
    _edit(results / "04_warmup_timing_study.json", lambda d: d["cold_warm"].pop("slimrlfn"))
    sheet = gather(load_inputs(results))
    slim = sheet.values["SlimRLFN"]
    assert slim["runtime_cold"].value is None and "not in notebook 04" in slim["runtime_cold"].note
    assert slim["score_cold"].value is None and "no runtime" in slim["score_cold"].note
    assert sheet.values["SlimRLFN-prune"]["score_cold"].value is not None

    _edit(results / "04_warmup_timing_study.json", lambda d: d["cold_warm"]["rlfn"].pop("warm"))
    sheet = gather(load_inputs(results))
    assert sheet.values["SlimRLFN-prune"]["score_warm"].value is None
    assert "RLFN runtime" in sheet.values["SlimRLFN-prune"]["score_warm"].note
    assert sheet.values["SlimRLFN-prune"]["score_cold"].value is not None


# --------------------------------------------------------------------------- missing inputs


@pytest.mark.parametrize("name", [*INPUTS, "separate", "consecutive"])
def test_a_missing_input_is_one_line_naming_the_file_and_its_notebook(results, tmp_path, name):
    relative, notebook = INPUTS.get(name, (f"04_timing_{name}_quick.json", "04_warmup_timing_study.ipynb"))
    (results / relative).unlink()
    out = tmp_path / "out"
    with pytest.raises(UserError) as info:
        write_factsheet(results, tmp_path / "figures", out)
    message = str(info.value)
    assert "\n" not in message
    assert str(results / relative) in message and f"notebooks/{notebook}" in message
    assert not out.exists() and not (tmp_path / "figures").exists(), "nothing is written"


def test_unreadable_or_outdated_input_is_a_user_error(results):
    good = (results / "03_evaluation.json").read_text()
    (results / "03_evaluation.json").write_text("{not json")
    with pytest.raises(UserError, match=r"03_evaluation.json: not valid JSON .*03_evaluation.ipynb"):
        load_inputs(results)
    (results / "03_evaluation.json").write_text(json.dumps({"quick": True}))
    with pytest.raises(UserError, match=r"has no 'splits', 'data_dir'"):
        load_inputs(results)
    (results / "03_evaluation.json").write_text(good)
    (results / "eval" / "results.json").write_text("[]")
    with pytest.raises(UserError, match=r"results.json: expected a JSON object, found list"):
        load_inputs(results)
    with pytest.raises(UserError, match="no such folder"):
        load_inputs(results / "nowhere")


def test_the_factsheet_saves_no_copy_of_notebook_03s_sr_crops(results, tmp_path, monkeypatch):
    """05 saves only the figures it draws: the SR crops are 03's figure (byte-identical copies were published)."""
    from slimrlfn.factsheet import figures

    saved = []
    for name in ("tradeoff_figure", "trajectory_figure"):
        monkeypatch.setattr(figures, name, lambda *args, **kw: saved.append(args[2]) or [])
    monkeypatch.setattr(figures, "save_figure", lambda fig, folder, stem: saved.append(stem) or [])
    for name in ("tradeoff_points", "plot_latency_traces", "plot_cold_warm"):
        monkeypatch.setattr(figures, name, lambda *args, **kw: None)
    figures.write_figures(load_inputs(results), tmp_path)
    assert saved == ["05_tradeoff", "05_pruning_trajectory", "05_latency_traces", "05_cold_vs_warm"]
    assert saved == [f"05_{stem}" for stem in figures.FIGURE_STEMS]


def test_command_line_arguments(results, tmp_path):
    parser = add_factsheet_arguments(argparse.ArgumentParser())
    defaults = parser.parse_args([])
    assert (defaults.results_dir, defaults.figures_dir, defaults.out_dir) == ("runs/workbook/results", "figures", None)
    args = parser.parse_args(["--results_dir", str(tmp_path / "empty"), "--figures_dir", "F", "--out_dir", "O"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="01_model_definition.json: no such file"):
        run_factsheet_from_args(args)


# --------------------------------------------------------------------------- tables


def _cells(line: str) -> list:
    return re.split(r"(?<!\\)&", line.rstrip().removesuffix(r"\\"))


def test_latex_table_is_booktabs_with_footnotes_and_devices(results):
    sheet = gather(load_inputs(results))
    tex = latex_table(sheet)
    for token in (r"\begin{table}", r"\toprule", r"\midrule", r"\bottomrule", r"\end{tabular}", r"\end{table}",
                  r"\label{tab:factsheet}", "booktabs"):
        assert token in tex
    assert tex.count("{") - tex.count(r"\{") == tex.count("}") - tex.count(r"\}")
    body = tex[tex.index(r"\midrule"):tex.index(r"\bottomrule")].splitlines()[1:-1]
    assert len(body) == len(QUANTITIES)
    assert all(len(_cells(line)) == 2 + len(LABELS) for line in body)
    runtime = next(line for line in body if line.strip().startswith("Runtime cold"))
    assert "100.00 $\\pm$ 1.50" in runtime and "Test CPU (cpu, 1 thread" in runtime
    memory = next(line for line in body if line.strip().startswith("Memory"))
    assert memory.count(r"n/a\textsuperscript{b}") == 3
    assert r"\textsuperscript{a}~not evaluated: notebook 03 ran in quick mode" in tex
    assert r"memory\_kind cpu\_process\_peak\_rss" in tex, "underscores escaped"
    assert "0.1971" in tex and "11.2952" in tex and "7.3891" in tex


def test_per_model_latex_table(results):
    sheet = gather(load_inputs(results))
    tex = latex_table(sheet, ["SlimRLFN-prune"])
    assert r"\label{tab:factsheet-slimrlfn-prune}" in tex and "Quantity & Value & Measured on" in tex
    body = tex[tex.index(r"\midrule"):tex.index(r"\bottomrule")].splitlines()[1:-1]
    assert all(len(_cells(line)) == 3 for line in body)
    with pytest.raises(ValueError, match="not in the factsheet"):
        latex_table(sheet, ["EDSR"])


def test_markdown_table(results):
    sheet = gather(load_inputs(results))
    md = markdown_table(sheet)
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert rows[0] == "| quantity | RLFN | SlimRLFN | SlimRLFN-prune | measured on |"
    assert rows[1] == "|---|---:|---:|---:|---|"
    assert len(rows) == 2 + len(QUANTITIES) and all(row.count("|") - row.count(r"\|") == 6 for row in rows)
    assert "| Parameters [M] | 0.3172 | 0.2078 | 0.1971 | architecture (any device) |" in md
    assert "n/a<sup>a</sup>" in md and "<sup>a</sup> not evaluated" in md and "Quick mode" in md


def test_csv_table_is_long_format_with_full_precision(results):
    import pandas as pd

    sheet = gather(load_inputs(results))
    text = csv_table(sheet)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(LABELS) * len(QUANTITIES)
    by = {(r["model"], r["quantity"]): r for r in rows}
    assert float(by["SlimRLFN-prune", "flops"]["value"]) == 11.295181824
    assert by["RLFN", "runtime_cold"]["sd"] == "1.5" and by["RLFN", "runtime_cold"]["n"] == "3"
    assert by["RLFN", "runtime_cold"]["measured_on"] == TIMING_DEVICE
    missing = [r for r in rows if r["value"] == "n/a"]
    assert {r["quantity"] for r in missing} == {"psnr_test", "memory"} and all(r["note"] for r in missing)
    assert all(r["note"].startswith("quick mode") for r in rows), "a quick-mode factsheet says so on every row"
    frame = pd.read_csv(io.StringIO(text))
    assert frame["value"].isna().sum() == len(missing), "pandas reads n/a as missing"
    single = list(csv.DictReader(io.StringIO(csv_table(sheet, ["SlimRLFN"]))))
    assert {r["model"] for r in single} == {"SlimRLFN"} and len(single) == len(QUANTITIES)


def test_write_tables_writes_every_format(results, tmp_path):
    sheet = gather(load_inputs(results))
    written = write_tables(sheet, tmp_path / "tables")
    names = [p.name for p in written]
    assert names[:4] == ["factsheet.tex", "factsheet.md", "factsheet.csv", "factsheet.json"]
    for label in LABELS:
        for ext in ("tex", "md", "csv"):
            assert f"factsheet_{model_slug(label)}.{ext}" in names
    assert model_slug("SlimRLFN-prune") == "slimrlfn_prune"
    doc = json.loads((tmp_path / "tables" / "factsheet.json").read_text())
    assert doc["values"]["RLFN"]["psnr_test"]["value"] is None and doc["values"]["RLFN"]["psnr_test"]["note"]
    assert [q["key"] for q in doc["quantities"]] == [q.key for q in QUANTITIES]
    assert sorted(os.listdir(tmp_path / "tables")) == sorted(names), "no temporary files left"
    markdown = (tmp_path / "tables" / "factsheet.md").read_text()
    data_dir = str(load_inputs(results).evaluation["data_dir"])
    assert f"on the data set {Path(data_dir).name} (valid: " in markdown  # named by folder name and image count
    assert data_dir not in markdown or not Path(data_dir).is_absolute()


def test_write_tables_is_atomic(results, tmp_path, monkeypatch):
    import slimrlfn.core.files

    sheet = gather(load_inputs(results))
    out = tmp_path / "tables"
    out.mkdir()
    (out / "factsheet.tex").write_text("previous table\n")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(slimrlfn.core.files.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_tables(sheet, out)
    assert (out / "factsheet.tex").read_text() == "previous table\n", "a failed write leaves the old file"
    assert os.listdir(out) == ["factsheet.tex"], "and no half-written temporary file"


# --------------------------------------------------------------------------- the trade-off figure


def test_tradeoff_points_and_figure(results, tmp_path):
    import matplotlib.image as mpimg

    points = tradeoff_points(load_inputs(results))
    kinds = {(p["kind"], p["label"]) for p in points}
    assert {("official", label) for label in LABELS} <= kinds
    assert ("reference", "SlimRLFN-prune") in kinds and ("pruned", "l1, step 1") in kinds
    assert [p["images"] for p in points if p["kind"] == "official"] == [4, 4, 4]
    paths = tradeoff_figure(points, tmp_path, "05_tradeoff")
    assert [p.name for p in paths] == ["05_tradeoff.png", "05_tradeoff.pdf"]
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert float(mpimg.imread(paths[0])[..., :3].std()) > 0.01
    with pytest.raises(ValueError):
        tradeoff_figure([], tmp_path)


def test_the_pruned_models_get_one_colour_per_criterion_and_legend_entries_not_labels(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    drawn = {}
    real_legend, real_annotate = Figure.legend, __import__("matplotlib.axes", fromlist=["Axes"]).Axes.annotate

    def legend(self, *args, **kwargs):
        drawn["legend"] = [(h.get_label(), h.get_color()) for h in kwargs["handles"]]
        return real_legend(self, *args, **kwargs)

    def annotate(self, text, *args, **kwargs):
        drawn.setdefault("labels", []).append(text)
        return real_annotate(self, text, *args, **kwargs)

    monkeypatch.setattr(Figure, "legend", legend)
    monkeypatch.setattr(__import__("matplotlib.axes", fromlist=["Axes"]).Axes, "annotate", annotate)
    points = [{"label": "SlimRLFN", "kind": "official", "psnr": 30.0, "flops_g": 12.0, "params_m": 0.2, "images": 4}]
    points += [{"label": f"{c}, step 2", "criterion": c, "kind": "pruned", "psnr": 29.0 + i / 10, "flops_g": 11.1,
                "params_m": 0.19, "images": 2} for i, c in enumerate(("l1", "l2", "taylor", "random"))]
    tradeoff_figure(points, tmp_path, "t")
    pruned = [(label, colour) for label, colour in drawn["legend"] if label.startswith("pruned: ")]
    assert [label for label, _ in pruned] == ["pruned: l1, step 2", "pruned: l2, step 2", "pruned: taylor, step 2",
                                              "pruned: random, step 2"]
    assert len({colour for _, colour in pruned}) == 4
    assert drawn["labels"] == ["SlimRLFN"]  # only the models are labelled on the chart


def test_the_factsheet_reads_only_keys_that_the_package_writes():
    """The factsheet's input schema is the summaries' (arch.definition, prune.explore, evaluate.report,
    timing.report), not keys written by hand in notebook cells."""
    from slimrlfn.arch.definition import SUMMARY_KEYS as MODEL_DEFINITION
    from slimrlfn.evaluate.report import SUMMARY_KEYS as EVALUATION
    from slimrlfn.factsheet.data import _REQUIRED_KEYS
    from slimrlfn.prune.explore import SUMMARY_KEYS as PRUNING
    from slimrlfn.timing.report import SUMMARY_KEYS as TIMING

    written = {"model_definition": MODEL_DEFINITION, "pruning": PRUNING, "evaluation": EVALUATION, "timing": TIMING}
    assert set(_REQUIRED_KEYS) == set(written)
    for name, keys in _REQUIRED_KEYS.items():
        assert set(keys) <= set(written[name]), name


def test_the_summaries_write_their_keys():
    from slimrlfn.arch.definition import SUMMARY_KEYS as MODEL_DEFINITION
    from slimrlfn.arch.definition import summary as model_definition
    from slimrlfn.evaluate.report import SUMMARY_KEYS as EVALUATION
    from slimrlfn.evaluate.report import summary as evaluation
    from slimrlfn.prune.explore import SUMMARY_KEYS as PRUNING
    from slimrlfn.prune.explore import summary as pruning

    entry = {"model": "RLFN", "valid_ave_psnr": 29.0, "valid_ave_ssim": 0.8, "device_info": CPU_INFO, "flops": 19.7}
    assert tuple(model_definition(True, CPU_INFO, {"RLFN": {"arch": "rlfn"}}, [], [], [])) == MODEL_DEFINITION
    doc = evaluation({"00_RLFN_baseline": entry}, "data", ["valid"], True, {"image": "a", "box": {}})
    assert tuple(doc) == EVALUATION and doc["tables"]["valid"][0]["FLOPs [G]"] == 19.7
    assert doc["tables"]["valid"][0]["runtime [ms]"] is None and doc["device"] == "Test CPU"
    assert tuple(pruning({"l1": []}, {}, CPU_INFO, True, "slimrlfn", {})) == PRUNING


# --------------------------------------------------------------------------- devices and spreads in every format


GPU_INFO = {"device": "cuda:0", "device_type": "cuda", "torch": "2.13.0", "threads": 8, "device_name": "Test GPU"}


def test_differing_devices_are_each_named_in_the_measured_on_column(results):
    """RLFN evaluated on a GPU, the others on the CPU: the PSNR row names both, per model, in LaTeX and Markdown."""
    def rlfn_on_gpu(doc):
        for entry in doc.values():
            if entry["model"] == "RLFN":
                entry["device_info"] = GPU_INFO

    _edit(results / "eval" / "results.json", rlfn_on_gpu)
    sheet = gather(load_inputs(results))
    assert "Test GPU" in sheet.values["RLFN"]["psnr_valid"].measured_on
    assert "Test CPU" in sheet.values["SlimRLFN"]["psnr_valid"].measured_on
    md_row = next(line for line in markdown_table(sheet).splitlines() if line.startswith("| PSNR valid"))
    where = md_row.rstrip(" |").rsplit(" | ", 1)[1]
    assert where.startswith("RLFN: Test GPU") and "; SlimRLFN: Test CPU" in where and "; SlimRLFN-prune: Test CPU" in where
    tex = latex_table(sheet)
    tex_row = next(line for line in tex.splitlines() if line.strip().startswith("PSNR valid"))
    assert "RLFN: Test GPU" in tex_row and "SlimRLFN: Test CPU" in tex_row
    # one device for all: named once, without model names
    runtime = next(line for line in markdown_table(sheet).splitlines() if line.startswith("| Runtime cold"))
    assert runtime.rstrip(" |").rsplit(" | ", 1)[1] == TIMING_DEVICE
    rows = {(r["model"], r["quantity"]): r for r in csv.DictReader(io.StringIO(csv_table(sheet)))}
    assert "Test GPU" in rows["RLFN", "psnr_valid"]["measured_on"]
    assert "Test CPU" in rows["SlimRLFN", "psnr_valid"]["measured_on"]


def test_every_format_shows_the_runtime_sd(results, tmp_path):
    """'mean ± sd' of the runtimes in the LaTeX, Markdown, CSV and JSON tables, combined and per model."""
    sheet = gather(load_inputs(results))
    written = {p.name: p for p in write_tables(sheet, tmp_path / "tables")}
    cold_sd, warm_sd = 1.5, 0.5
    for name, label in [("RLFN", "rlfn"), ("SlimRLFN", "slimrlfn"), ("SlimRLFN-prune", "slimrlfn_prune")]:
        cold, warm = f"{COLD[label]:.2f}", f"{WARM[label]:.2f}"
        for stem in ("factsheet", f"factsheet_{model_slug(name)}"):
            md = written[f"{stem}.md"].read_text()
            assert f"{cold} \u00b1 {cold_sd:.2f}" in md and f"{warm} \u00b1 {warm_sd:.2f}" in md, (stem, name)
            tex = written[f"{stem}.tex"].read_text()
            assert f"{cold} $\\pm$ {cold_sd:.2f}" in tex and f"{warm} $\\pm$ {warm_sd:.2f}" in tex, (stem, name)
            rows = {(r["model"], r["quantity"]): r for r in csv.DictReader(io.StringIO(written[f"{stem}.csv"].read_text()))}
            assert float(rows[name, "runtime_cold"]["value"]) == COLD[label]
            assert float(rows[name, "runtime_cold"]["sd"]) == cold_sd and float(rows[name, "runtime_warm"]["sd"]) == warm_sd
        values = json.loads(written["factsheet.json"].read_text())["values"][name]
        assert (values["runtime_cold"]["value"], values["runtime_cold"]["spread"]) == (COLD[label], cold_sd)
        assert (values["runtime_warm"]["value"], values["runtime_warm"]["spread"]) == (WARM[label], warm_sd)
    md_rows = [line for line in written["factsheet.md"].read_text().splitlines() if line.startswith("| Runtime")]
    assert len(md_rows) == 2
    for line in md_rows:
        cells = line.strip("| ").split(" | ")[1:1 + len(LABELS)]
        assert len(cells) == len(LABELS) and all(" \u00b1 " in cell for cell in cells), line
    params = next(line for line in written["factsheet.md"].read_text().splitlines() if line.startswith("| Parameters"))
    assert "\u00b1" not in params, "no spread where none was measured"
