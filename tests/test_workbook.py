import json

import nbformat
import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.workbook import list_notebooks, run_workbook


def write_notebook(path, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('quick = True\ndata_dir = ""\nfigures_dir = ""\nresults_dir = ""\ndevice = "cpu"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.notebook
def test_runs_in_order_stops_at_the_failure_and_keeps_its_copy(tmp_path, tiny_pairs, capsys):
    books = tmp_path / "notebooks"
    books.mkdir()
    write_notebook(books / "01_ok.ipynb", "import pathlib\npathlib.Path(results_dir, 'ran.txt').write_text(str(quick))")
    write_notebook(books / "02_fails.ipynb", "raise ValueError('broken on purpose')")
    write_notebook(books / "03_after.ipynb", "print('never')")
    summary = run_workbook("quick", data_dir=tiny_pairs, device="cpu", out_dir=tmp_path / "run",
                           figures_dir=tmp_path / "fig", notebooks_dir=books)
    assert [(r["notebook"], r["status"]) for r in summary["notebooks"]] == [
        ("01_ok.ipynb", "ok"), ("02_fails.ipynb", "failed"), ("03_after.ipynb", "skipped")]
    assert (tmp_path / "run" / "results" / "ran.txt").read_text() == "True"
    assert "ValueError: broken on purpose" in summary["notebooks"][1]["error"]
    assert (tmp_path / "run" / "executed" / "02_fails.ipynb").is_file()
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["device_info"]["device_type"] == "cpu"
    assert "02_fails.ipynb failed" in capsys.readouterr().out


def test_only_and_bad_mode(tmp_path):
    (tmp_path / "01_a.ipynb").write_text("{}")
    (tmp_path / "02_b.ipynb").write_text("{}")
    assert [p.name for p in list_notebooks(tmp_path, ["02"])] == ["02_b.ipynb"]
    with pytest.raises(UserError, match="--only 09"):
        list_notebooks(tmp_path, ["09"])
    with pytest.raises(UserError, match="--mode 'fast'"):
        run_workbook("fast", data_dir=tmp_path, notebooks_dir=tmp_path, out_dir=tmp_path / "r", figures_dir=tmp_path / "f")


@pytest.mark.notebook
def test_the_kernels_find_the_checkpoints_where_the_users_folder_has_them(tmp_path, tiny_pairs, official_zoo,
                                                                         monkeypatch):
    """From the folder make runs in: ./model_zoo/, then a relative SLIMRLFN_MODEL_ZOO; the kernels run in notebooks/."""
    from slimrlfn.arch.zoo import ZOO

    books = tmp_path / "notebooks"
    books.mkdir()
    write_notebook(books / "01_zoo.ipynb", "import pathlib\nfrom slimrlfn.arch.zoo import find_checkpoint\n"
                                           "pathlib.Path(results_dir, 'found.txt').write_text(str(find_checkpoint("
                                           "'rlfn', download=False)))")
    for folder in ("model_zoo", "elsewhere/zoo"):
        (tmp_path / folder).mkdir(parents=True)
        for entry in ZOO.values():
            (tmp_path / folder / entry.file).symlink_to(official_zoo / entry.file)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLIMRLFN_MODEL_ZOO", raising=False)
    for given, expected in ((None, tmp_path / "model_zoo"), ("elsewhere/zoo", tmp_path / "elsewhere" / "zoo")):
        if given is not None:
            monkeypatch.setenv("SLIMRLFN_MODEL_ZOO", given)
        summary = run_workbook("quick", data_dir=tiny_pairs, device="cpu", out_dir=tmp_path / "run",
                               figures_dir=tmp_path / "fig", notebooks_dir=books)
        assert [r["status"] for r in summary["notebooks"]] == ["ok"], summary["notebooks"]
        assert (tmp_path / "run" / "results" / "found.txt").read_text() == str(expected / ZOO["rlfn"].file)


def _earlier_run(results):
    """What an earlier workbook run leaves that the notebooks would read back."""
    (results / "prune" / "l1-abc").mkdir(parents=True)
    (results / "prune" / "l1-abc" / "records.jsonl").write_text("{}\n")
    (results / "04_timing_separate_quick.json").write_text(json.dumps(
        {"records": [{"load_avg_1min": 0.75}, {"load_avg_1min": 2.5}]}))
    (results / "03_evaluation.json").write_text("{}")  # evaluated afresh every time: not a reused stage


def test_what_an_earlier_run_left_is_listed_with_its_date_and_load(tmp_path):
    from slimrlfn.workbook import earlier_results, reuse_lines

    results = tmp_path / "results"
    results.mkdir()
    assert earlier_results(results) == [] and reuse_lines([]) == []
    _earlier_run(results)
    found = earlier_results(results)
    assert [f["stage"] for f in found] == ["pruning runs (notebook 02)", "timing studies (notebook 04)"]
    lines = reuse_lines(found)
    assert lines[0].startswith("reused from an earlier run (make workbook FRESH=1")
    assert "timing studies (notebook 04): 1 file(s), last written 20" in lines[2]
    assert lines[2].endswith("machine load 0.75-2.50 (1-min average)") and "load" not in lines[1]


@pytest.mark.notebook
def test_a_second_run_says_what_it_reuses_and_fresh_measures_again(tmp_path, tiny_pairs, capsys):
    books = tmp_path / "notebooks"
    books.mkdir()
    write_notebook(books / "01_ok.ipynb", "import pathlib\n"
                                          "print(sorted(p.name for p in pathlib.Path(results_dir).iterdir()))")
    results = tmp_path / "run" / "results"
    results.mkdir(parents=True)
    _earlier_run(results)
    summary = run_workbook("quick", data_dir=tiny_pairs, device="cpu", out_dir=tmp_path / "run",
                           figures_dir=tmp_path / "fig", notebooks_dir=books)
    out = capsys.readouterr().out
    assert "reused from an earlier run" in out and "pruning runs (notebook 02): 1 file(s)" in out
    assert [r["stage"] for r in summary["reused"]] == ["pruning runs (notebook 02)", "timing studies (notebook 04)"]
    summary = run_workbook("quick", data_dir=tiny_pairs, device="cpu", out_dir=tmp_path / "run",
                           figures_dir=tmp_path / "fig", notebooks_dir=books, fresh=True)
    out = capsys.readouterr().out
    assert "--fresh: removed" in out and "reused from an earlier run" not in out and summary["reused"] == []
    assert not (results / "prune").exists() and summary["notebooks"][0]["status"] == "ok"
