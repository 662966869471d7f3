"""The book builds with Sphinx (MyST, myst-nb) with warnings as errors, every section of the old README is a page or
a section of it, and a rendered notebook names no folder of the machine that ran it."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The sections of the README before it became a front door: each lives on in docs/, under its own title or, for a
#: section that became a whole page, the page's title.
README_SECTIONS = ("Models and counts", "Evaluation", "Your own model",
                   "An NTIRE challenge repository", "Training",
                   "Pruning and the trade-off explorer", "The warm-up timing study",
                   "The organisers' own runs, re-scored: what the first image is worth (`slimrlfn official`)",
                   "The field study: does the official timing protocol reorder the ranking?", "Deployment and int8",
                   "int8: `--backend openvino_int8`", "Quantization-aware fine-tuning: `slimrlfn qat`",
                   "Mixed precision: `slimrlfn int8-sensitivity`, then `qat --keep_fp32`", "The notebooks",
                   "The factsheet", "A documented run", "Notebooks in git",
                   "Bad input, concurrent runs, interruptions", "Measured results", "Design", "Limits")


def test_every_old_readme_section_is_in_the_book():
    text = "\n".join(path.read_text() for path in (REPO / "docs").glob("*.md"))
    headings = {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}
    missing = [title for title in README_SECTIONS if title not in headings]
    assert not missing, missing
    assert len((REPO / "README.md").read_text().splitlines()) <= 250


def test_the_book_builds_without_warnings_and_renders_an_executed_notebook(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    docs = tmp_path / "clone" / "docs"
    shutil.copytree(REPO / "docs", docs, ignore=shutil.ignore_patterns("_build", "notebooks"))
    executed = tmp_path / "executed"
    executed.mkdir()
    machine = str(docs.parent)  # the clone's folder, as a workbook run prints it
    nb = {"cells": [{"cell_type": "markdown", "id": "m", "metadata": {}, "source": ["# 03 · Evaluation\n"]},
                    {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": 1, "source": ["print(1)"],
                     "outputs": [{"output_type": "stream", "name": "stdout",
                                  "text": [f"wrote {machine}/runs/workbook/results/03_evaluation.json\n"]}]}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (executed / "03_evaluation.ipynb").write_text(json.dumps(nb))
    subprocess.run([sys.executable, str(docs / "prepare.py"), str(executed)], check=True, capture_output=True)
    assert machine not in (docs / "notebooks" / "03_evaluation.ipynb").read_text()
    out = tmp_path / "html"
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d",
                           str(tmp_path / "doctrees"), str(docs), str(out)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    index = (out / "index.html").read_text()
    for page in ("getting-started", "pruning", "challenge", "results", "limits", "notebooks/index"):
        assert f'href="{page}.html"' in index, page
    rendered = (out / "notebooks" / "03_evaluation.html").read_text()
    assert "wrote ./runs/workbook/results/03_evaluation.json" in rendered and machine not in rendered
    assert (out / "_images" / "02_explorer.png").is_file()


def test_without_a_workbook_run_the_notebooks_page_says_how_to_make_them(tmp_path):
    docs = tmp_path / "clone" / "docs"
    docs.mkdir(parents=True)
    shutil.copy(REPO / "docs" / "prepare.py", docs)
    subprocess.run([sys.executable, str(docs / "prepare.py"), str(tmp_path / "none")], check=True,
                   capture_output=True)
    text = (docs / "notebooks" / "index.md").read_text()
    assert "run `make workbook`, then `make docs`" in text and "toctree" not in text


#: An absolute folder of some machine: what nothing published may name.
MACHINE_PATH = r"(?<![\w.])/(?:work|root|home|tmp|Users|mnt|var|opt|srv)/"


def test_no_committed_page_or_table_names_a_folder_of_a_machine():
    import re

    found = []
    for path in sorted((REPO / "docs").rglob("*")):
        generated = path.relative_to(REPO / "docs").parts[0] in ("_build", "notebooks")  # made by make docs
        if path.is_file() and path.suffix in (".md", ".json", ".csv", ".txt", ".tex") and not generated:
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if re.search(MACHINE_PATH, line):
                    found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:120]}")
    assert not found, "\n".join(found)
    assert re.search(MACHINE_PATH, "data under /work/main/data") and not re.search(MACHINE_PATH, "../shared/x, a/tmp/b")
