"""``slimrlfn official``: the analysis from the command line, its files, and bad input as one line."""
from __future__ import annotations

import json

import pytest

from slimrlfn.cli import main
from tests.conftest import shared_dir
from tests.helpers import fake_field_doc, write_loading_repo
from tests.official.helpers import entry, write_log, write_results


@pytest.fixture
def repo(tmp_path):
    """The loading repository with the organisers' files of a made-up year-2026 run of its entries 0-2."""
    folder = write_loading_repo(tmp_path / "loading_esr")
    write_results(folder, {"00_Plain": entry([9.0, 10.0, 10.0, 10.0], [10.0, 10.0], 10.0, 0.2),
                           "01_WarmConstructor": entry([9.5, 9.0, 9.0, 9.0], [9.0, 9.0], 9.0, 0.19),
                           "02_WarmSelect": entry([60.0, 8.0, 8.0, 8.0], [8.0, 8.0], 8.0, 0.18)})
    write_log(folder / "NTIRE2026-EfficientSR.log", [("00_Plain", 9.75, 10.0, 4), ("00_Plain", 9.5, 10.0, 4)])
    return folder


def test_the_command_writes_its_json_tables_and_figures(repo, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["official", "--challenge_repo", str(repo), "--year", "2026", "--json", str(out / "o.json"),
                 "--figures_dir", str(out / "figs")]) == 0
    printed = capsys.readouterr().out
    doc = json.loads((out / "o.json").read_text())
    assert doc["kind"] == "slimrlfn-official" and doc["year"] == "2026" and doc["log"]["runs"] == 2
    assert {e["key"]: e["load_forwards"]["count"] for e in doc["entries"]} == {
        "00_Plain": 0, "01_WarmConstructor": 1, "02_WarmSelect": 3}
    assert sorted(p.name for p in (out / "figs").iterdir()) == sorted(
        f"06_official_{s}.{x}" for s in ("bump", "first_image", "log_runs") for x in ("png", "pdf"))
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "o.json", "official_2026.csv", "official_2026.md", "official_2026.tex"]
    assert "02_WarmSelect" in printed and doc["conclusion"] in printed and "| run | model |" in printed


def test_no_load_runs_without_loading_and_a_field_is_compared(repo, tmp_path):
    field = tmp_path / "field.json"
    field.write_text(json.dumps(fake_field_doc()))
    out = tmp_path / "o"
    assert main(["official", "--results", str(repo / "results.json"), "--year", "2026", "--no_load", "--field",
                 str(field), "--json", str(out / "o.json"), "--figures_dir", str(out / "f")]) == 0
    doc = json.loads((out / "o.json").read_text())
    assert doc["sources"]["load_forwards"] == "not loaded" and doc["comparison"]["common"] == 1
    assert doc["comparison"]["rows"][0]["key"] == "00_Base" and doc["comparison"]["tau"]["official_vs_local_cold"] is None
    assert (out / "official_2026_comparison.md").is_file()


@pytest.mark.parametrize("argv, message", [
    (["--results", "/nowhere/results.json", "--year", "2026"], "--results /nowhere/results.json: cannot read it"),
    (["--log", "/nowhere.log"], "--year: give the challenge year"),
    (["--year", "2026"], "--results / --log: give the organisers' results.json"),
    (["--results", "R", "--year", "1999"], "--year 1999: no NTIRE Efficient SR record"),
    (["--results", "R", "--year", "2026", "--field", "/nowhere.json"], "--field /nowhere.json: cannot read it"),
])
def test_bad_input_is_one_line_status_2_and_writes_nothing(repo, tmp_path, capsys, argv, message):
    argv = [str(repo / "results.json") if a == "R" else a for a in argv]
    out = tmp_path / "out"
    assert main(["official", *argv, "--json", str(out / "o.json"), "--figures_dir", str(out / "f")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.shared
def test_the_2026_repository_without_loading_runs_in_seconds(tmp_path, capsys):
    repo = shared_dir() / "ntire2026_esr"
    if not (repo / "results.json").is_file():
        pytest.skip(f"the NTIRE 2026 ESR repository not found in {repo} (set SLIMRLFN_SHARED)")
    assert main(["official", "--challenge_repo", str(repo), "--no_load", "--json", str(tmp_path / "o.json"),
                 "--figures_dir", str(tmp_path / "f")]) == 0
    assert "15_DSCF_Fused joins at rank 1" in capsys.readouterr().out
