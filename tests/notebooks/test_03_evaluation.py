"""Notebook 03 (evaluation) in quick mode: PSNR of the official models on the sample, results.json, the figures."""
from __future__ import annotations

import pytest

from tests.notebooks.harness import assert_figure, read_json


@pytest.mark.notebook
def test_03_evaluation(workbook_01_to_04):
    dirs = workbook_01_to_04  # 03 run in quick mode by the workbook runner on the embedded sample
    summary = read_json(dirs["results"] / "03_evaluation.json")
    assert set(summary["psnr"]) == {"RLFN", "SlimRLFN", "SlimRLFN-prune"}
    for value in summary["psnr"].values():
        assert 20.0 < value < 40.0
    assert summary["psnr"]["RLFN"] > summary["psnr"]["SlimRLFN-prune"] - 0.5
    assert summary["splits"] == ["valid"]
    assert isinstance(summary["device"], str) and summary["device"]
    assert summary["device_info"]["device"] == "cpu"
    results = read_json(dirs["results"] / "eval" / "results.json")
    assert set(results) == {"00_RLFN_baseline", "21_SlimRLFN", "21_SlimRLFN_prune"}
    for entry in results.values():
        assert len(entry["valid_psnr"]) == 4 and "test_psnr" not in entry
    for stem in ("03_psnr_per_image", "03_sr_crops"):
        assert_figure(dirs["figures"] / f"{stem}.png")
        assert str(dirs["figures"] / f"{stem}.png") in summary["figures"]


@pytest.mark.notebook
def test_03_runs_first_from_a_fresh_clone(zoo_env, tmp_path):
    """Opened alone, before any other notebook: it makes the embedded sample itself; a data_dir that is not there
    fails in one line naming the parameter, with no traceback through the package."""
    import papermill

    from tests.notebooks.harness import run_notebook

    data = tmp_path / "data" / "sample"
    dirs = run_notebook("03_evaluation.ipynb", tmp_path, data_dir=data, models=["slimrlfn"])
    assert (data / "DIV2K_LSDIR_valid_HR").is_dir()
    assert set(read_json(dirs["results"] / "03_evaluation.json")["psnr"]) == {"SlimRLFN"}
    with pytest.raises(papermill.PapermillExecutionError) as failed:  # the cell fails: papermill stops
        (tmp_path / "bad").mkdir()
        run_notebook("03_evaluation.ipynb", tmp_path / "bad", data_dir=tmp_path / "nowhere", models=["slimrlfn"])
    import nbformat

    executed = nbformat.read(tmp_path / "bad" / "03_evaluation.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    (error,) = errors
    expected = f"data_dir = '{tmp_path / 'nowhere'}': no such folder; set data_dir"
    assert error["ename"] == "UserError" and error["evalue"].startswith(expected)
    assert error["traceback"] == [f"UserError: {error['evalue']}"]  # one line: no traceback through the package
    assert "--val_dir" not in error["evalue"] and failed.value.ename == "UserError"
