"""The README's two commands as a newcomer meets them: ``make workbook`` in a fresh clone beside ``../shared`` with the
checkpoints in ``./model_zoo/`` (or a relative ``SLIMRLFN_MODEL_ZOO``) and no variable set, then ``make docs`` renders
every notebook of that run, and nothing the run writes for publishing names a folder of this machine."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import shared_dir
from tests.notebooks.conftest import fresh_clone, make_in
from tests.notebooks.harness import NOTEBOOKS, zoo_folder

pytestmark = pytest.mark.notebook


def machine_paths(text: str, clone: Path) -> list:
    """The absolute folders of this machine that ``text`` names: the clone, the folder it sits in, ``../shared``
    (as given and resolved), the home folder, and any ``/tmp/`` path."""
    folders = {str(clone), str(clone.resolve()), str(clone.parent), str(shared_dir()), str(shared_dir().resolve()),
               str(Path.home())}
    found = [folder for folder in folders if folder not in ("/", "") and folder in text]
    return found + re.findall(r"/tmp/[\w./-]+", text)


def test_make_workbook_in_a_fresh_clone_runs_every_notebook(fresh_clone_workbook):
    """`make workbook` from a fresh clone (./model_zoo, no variable set) runs every notebook, measuring afresh."""
    ran = [row["notebook"] for row in fresh_clone_workbook["summary"]["notebooks"]]
    assert ran == sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))
    assert all((fresh_clone_workbook["executed"] / name).is_file() for name in ran)
    assert "reus" not in fresh_clone_workbook["output"].lower()  # a first run has nothing earlier to reuse


def test_a_relative_model_zoo_counts_from_where_make_runs(tmp_path):
    """`SLIMRLFN_MODEL_ZOO=ckpts make workbook` finds the checkpoints in ./ckpts, though the notebooks run in notebooks/;
    `slimrlfn zoo --verify` from the same folder agrees."""
    clone = fresh_clone(tmp_path, zoo_folder(), zoo_name="ckpts")
    done = make_in(clone, "workbook", "ONLY=01_model", env={"SLIMRLFN_MODEL_ZOO": "ckpts", "SLIMRLFN_OFFLINE": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (clone / "runs" / "workbook" / "executed" / "01_model_definition.ipynb").is_file()
    verify = make_in(clone, env={"SLIMRLFN_MODEL_ZOO": "ckpts", "SLIMRLFN_OFFLINE": "1"},
                     command=[str(clone / ".venv" / "bin" / "slimrlfn"), "zoo", "--verify"])
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.count("sha256 ok  ckpts/") == 3, verify.stdout  # found where the notebooks found them


def test_make_docs_renders_every_notebook_of_the_run_with_its_figures(fresh_clone_workbook):
    """`make docs` after `make workbook` builds the book (warnings are errors) with every notebook rendered, its
    figures embedded, and no folder of this machine on any page."""
    clone = fresh_clone_workbook["clone"]
    done = make_in(clone, "docs")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = clone / "docs" / "_build" / "html"
    for name in (row["notebook"] for row in fresh_clone_workbook["summary"]["notebooks"]):
        page = html / "notebooks" / f"{Path(name).stem}.html"
        text = page.read_text()
        saved = sorted(fresh_clone_workbook["figures"].glob(f"{name.split('_')[0]}_*.png"))
        if saved:  # a notebook that saves figures shows them (01b draws none)
            assert "<img" in text, f"{page.name}: no figure rendered, though it saved {[p.name for p in saved]}"
        assert "quick mode" in text.lower(), f"{page.name}: does not say it is a quick-mode run"
    leaks = {page.name: machine_paths(page.read_text(), clone) for page in html.rglob("*.html")}
    assert not {name: found for name, found in leaks.items() if found}


def test_the_files_a_workbook_run_publishes_name_no_machine_folder(fresh_clone_workbook):
    """The factsheet (LaTeX, Markdown, CSV, JSON), the field tables and the run's summary name data sets by folder name,
    never by this machine's absolute path."""
    clone, results = fresh_clone_workbook["clone"], fresh_clone_workbook["results"]
    published = [clone / "runs" / "workbook" / "summary.json", results / "05_factsheet.json"]
    # results/factsheet/ holds the factsheet (05) and the field and official tables (06)
    published += [p for p in (results / "factsheet").rglob("*") if p.suffix in (".tex", ".md", ".csv", ".json")]
    assert {"factsheet.json", "factsheet.md", "06_field_quick.md", "06_field_quick.csv"} <= {p.name for p in published}
    leaks = {str(p.relative_to(clone)): machine_paths(p.read_text(), clone) for p in published}
    assert not {name: found for name, found in leaks.items() if found}
