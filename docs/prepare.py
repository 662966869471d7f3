"""Gather what the book renders besides its pages: the executed notebooks of the last workbook run.

``python docs/prepare.py`` (what ``make docs`` runs before Sphinx) copies ``runs/workbook/executed/*.ipynb`` into
``docs/notebooks/`` (git-ignored, made afresh each time) with every absolute path of this machine written as the
reader's (the clone's folder as ``.``, ``../shared`` for the shared folder, ``~`` for the home folder), and writes
``docs/notebooks/index.md``, which lists them, or says how to make them when there is no workbook run.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
OUT = DOCS / "notebooks"
INTRO = """# The notebooks, rendered

The notebooks under `notebooks/` are committed without outputs. `make docs` copies in the executed copies of the last
`make workbook` run (`runs/workbook/executed/`: quick mode unless it ran with `MODE=full`), with this machine's
folders written as the reader's (the clone as `.`), so that each notebook shows its figures and tables without
running anything.
"""


def public(text: str, replacements: list) -> str:
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def main(executed: Path = REPO / "runs" / "workbook" / "executed", root: Path = REPO) -> int:
    """Gather ``executed``'s notebooks; ``root`` is the folder the run worked in (written as ``.``)."""
    shared = Path(os.environ.get("SLIMRLFN_SHARED") or Path(root).absolute().parent / "shared")
    # each folder as given and resolved (a ../shared that is a link names its target when resolved)
    pairs = {(str(Path(root).absolute()), "."), (str(Path(root).resolve()), "."), (str(shared.absolute()), "../shared"),
             (str(shared.resolve()), "../shared"), (str(Path.home()), "~")}
    replacements = sorted(pairs, key=lambda pair: -len(pair[0]))
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    notebooks = sorted(executed.glob("*.ipynb")) if executed.is_dir() else []
    for source in notebooks:
        nb = json.loads(source.read_text())
        (OUT / source.name).write_text(public(json.dumps(nb, indent=1, ensure_ascii=False), replacements) + "\n")
    if notebooks:
        names = "\n".join(source.stem for source in notebooks)
        body = f"{INTRO}\n```{{toctree}}\n:maxdepth: 1\n\n{names}\n```\n"
    else:
        body = (f"{INTRO}\nThere is no workbook run in this clone yet (`runs/workbook/executed/` is empty): run "
                f"`make workbook`, then `make docs`, to see them here.\n")
    (OUT / "index.md").write_text(body)
    print(f"docs/notebooks: {len(notebooks)} executed notebook(s) from {executed}")
    return 0


if __name__ == "__main__":  # python docs/prepare.py [EXECUTED_FOLDER [ROOT]]
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "runs" / "workbook" / "executed",
                  Path(sys.argv[2]) if len(sys.argv) > 2 else REPO))
