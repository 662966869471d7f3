"""Fixtures of the notebook tests: the official checkpoints for the kernels, the embedded sample data."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

import pytest

from slimrlfn.arch.zoo import ZOO
from tests.conftest import shared_dir
from tests.notebooks.harness import REPO, zoo_folder


@pytest.fixture
def zoo_env(monkeypatch):
    """The kernels run in notebooks/: point them at the official checkpoints, no downloads; skips without them."""
    monkeypatch.setenv("SLIMRLFN_MODEL_ZOO", str(zoo_folder()))
    monkeypatch.setenv("SLIMRLFN_OFFLINE", "1")


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """The embedded sample data set (4 valid + 2 test photos), written once per session."""
    from slimrlfn.data.sample import make_sample

    out = tmp_path_factory.mktemp("sample")
    make_sample(out, progress=False)
    return out


def fresh_clone(root: Path, zoo: Optional[Path], zoo_name: str = "model_zoo") -> Path:
    """A newcomer's clone under ``root``: the checkout's files (tracked, and untracked ones git does not ignore), the
    checkout's ``.venv`` linked in (``make`` is told not to remake it), ``../shared`` beside it as in CI, and the
    official checkpoints of ``zoo`` linked into ``./<zoo_name>/`` (none when ``zoo`` is None)."""
    clone = root / "slimrlfn"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True).stdout.decode()
    for name in sorted({n for n in listed.split("\0") if n}):
        source = REPO / name
        if source.is_file():  # not a file deleted in the working tree
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    (clone / ".venv").symlink_to(REPO / ".venv")
    if shared_dir().is_dir():
        (root / "shared").symlink_to(shared_dir().resolve())
    if zoo is not None:
        (clone / zoo_name).mkdir()
        for entry in ZOO.values():
            (clone / zoo_name / entry.file).symlink_to(zoo / entry.file)
    return clone


def make_in(clone: Path, *args: str, env: Optional[dict] = None, command: Optional[list] = None,
            timeout: float = 1800) -> subprocess.CompletedProcess:
    """``make ARGS`` (or ``command``) in ``clone`` with no SLIMRLFN_ variable set but those of ``env`` (the clone's
    own ``slimrlfn`` imported, and its ``.venv`` taken as made: ``make test`` made it already)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if not (REPO / ".venv" / "bin" / ".installed").is_file():
        pytest.skip("no .venv made by make in the checkout (run the tests with make test)")
    given = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLIMRLFN_")}
    env["PYTHONPATH"] = os.pathsep.join([str(clone)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(given)
    return subprocess.run(command or ["make", "-o", ".venv/bin/.installed", *args], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def fresh_clone_workbook(tmp_path_factory):
    """``make workbook`` exactly as the README has a newcomer run it: a fresh clone beside ``../shared``, the
    checkpoints in ``./model_zoo/``, no variable set, every notebook in quick mode on the embedded sample. Once per
    session, for the tests of every notebook's outputs, the book and the published files."""
    zoo = zoo_folder()
    clone = fresh_clone(tmp_path_factory.mktemp("newcomer"), zoo)
    done = make_in(clone, "workbook")
    assert done.returncode == 0, f"make workbook failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    run = clone / "runs" / "workbook"
    summary = json.loads((run / "summary.json").read_text())
    statuses = {row["notebook"]: row["status"] for row in summary["notebooks"]}
    assert set(statuses.values()) == {"ok"}, summary["notebooks"]
    return {"clone": clone, "data": clone / "data" / "sample", "results": run / "results", "figures": clone / "figures",
            "executed": run / "executed", "summary": summary, "output": done.stdout + done.stderr}


@pytest.fixture(scope="session")
def workbook_01_to_04(fresh_clone_workbook):
    """The outputs of 01, 02, 03 and 04 (and the others) in the newcomer's ``make workbook`` run."""
    return fresh_clone_workbook
