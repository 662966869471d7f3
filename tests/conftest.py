"""Shared fixtures of every test folder: where ../shared is, the official checkpoints, tiny NTIRE-layout data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from slimrlfn.data.images import write_image
from slimrlfn.data.pairs import write_pairs
from tests.helpers import textured_image, tree_fingerprint, write_fake_challenge_repo

REPO = Path(__file__).resolve().parents[1]
# The tests never download (the checkpoints come from ../shared or ./model_zoo) and draw off-screen, in this process and
# in the processes and notebook kernels they start (unless the caller sets these variables).
os.environ.setdefault("SLIMRLFN_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def shared_dir() -> Path:
    """$SLIMRLFN_SHARED, else ../shared beside the checkout."""
    return Path(os.environ.get("SLIMRLFN_SHARED", REPO.parent / "shared"))


def zoo_dir() -> Path:
    return Path(os.environ.get("SLIMRLFN_MODEL_ZOO", shared_dir() / "model_zoo"))


@pytest.fixture
def official_zoo(monkeypatch) -> Path:
    """The folder with the official checkpoints; skips when absent. Sets SLIMRLFN_MODEL_ZOO."""
    folder = zoo_dir()
    if not (folder / "team21_slimrlfn.pth").is_file():
        pytest.skip(f"official checkpoints not found in {folder} (set SLIMRLFN_MODEL_ZOO or SLIMRLFN_SHARED)")
    monkeypatch.setenv("SLIMRLFN_MODEL_ZOO", str(folder))
    monkeypatch.setenv("SLIMRLFN_OFFLINE", "1")
    return folder


@pytest.fixture
def set5_dir() -> Path:
    folder = shared_dir() / "datasets" / "Set5"
    if not (folder / "HR").is_dir():
        pytest.skip(f"Set5 not found in {folder} (set SLIMRLFN_SHARED)")
    return folder


@pytest.fixture
def set14_dir() -> Path:
    folder = shared_dir() / "datasets" / "Set14"
    if not (folder / "HR").is_dir():
        pytest.skip(f"Set14 not found in {folder} (set SLIMRLFN_SHARED)")
    return folder


@pytest.fixture
def esr_repo() -> Path:
    """The NTIRE 2024 ESR repository of ../shared (17 entries, 15 of which load on a CPU); skips when absent."""
    folder = shared_dir() / "ntire2024_esr"
    if not (folder / "test_demo.py").is_file():
        pytest.skip(f"the NTIRE 2024 ESR repository not found in {folder} (set SLIMRLFN_SHARED)")
    return folder


@pytest.fixture
def fake_repo(tmp_path) -> Path:
    """A small challenge repository made here (tests.helpers.write_fake_challenge_repo): entries 0-7."""
    return write_fake_challenge_repo(tmp_path / "fake_esr")


@pytest.fixture
def tiny_pairs(tmp_path) -> Path:
    """An NTIRE-layout folder with 2 valid and 1 test pair (HR 96x80 -> LR 24x20)."""
    root = tmp_path / "data"
    write_pairs([("a", textured_image(96, 80, 1)), ("b", textured_image(80, 96, 2))], root, "valid", progress=False)
    write_pairs([("c", textured_image(88, 88, 3))], root, "test", progress=False)
    return root


@pytest.fixture
def hr_dir(tmp_path) -> Path:
    """A folder of three HR images of different sizes (training data)."""
    folder = tmp_path / "hr"
    for i, (h, w) in enumerate([(96, 88), (72, 100), (80, 80)]):
        write_image(folder / f"img{i}.png", textured_image(h, w, i))
    return folder


@pytest.fixture
def val_dir(tmp_path) -> Path:
    """An NTIRE-layout folder with one valid pair (HR 80x72)."""
    root = tmp_path / "val"
    write_pairs([("v", textured_image(80, 72, 9))], root, "valid", progress=False)
    return root


def pytest_configure(config):
    """A fresh counts cache per test session (slimrlfn.metrics.counts_cache), inherited by every subprocess and
    notebook kernel: no test reads an entry an earlier session (or another checkout's code) wrote."""
    import tempfile

    os.environ["SLIMRLFN_CACHE_DIR"] = tempfile.mkdtemp(prefix="slimrlfn-test-cache-")


def pytest_collection_modifyitems(config, items):
    """Fast unit tests first; notebook runs through papermill last (stable order otherwise)."""
    items.sort(key=lambda item: item.get_closest_marker("notebook") is not None)


@pytest.fixture(scope="session", autouse=True)
def shared_stays_untouched():
    """../shared is read, never written: after the whole session every file and folder of it is as before (no
    ``__pycache__`` of a challenge repository's modules, no results file). A change fails the last test's teardown."""
    folder = shared_dir()
    before = tree_fingerprint(folder) if folder.is_dir() else None
    yield
    if before is not None:
        after = tree_fingerprint(folder)
        changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
        assert not changed, f"the tests changed {folder}: {changed[:10]}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """A notebook test that was skipped is said loudly at the end: ``make test`` is meant to run the notebooks."""
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if "tests/notebooks/" in str(getattr(report, "nodeid", "")) or "notebooks" in str(report.location[0])]
    if skipped:
        reason = str(skipped[0].longrepr[-1]) if isinstance(skipped[0].longrepr, tuple) else str(skipped[0].longrepr)
        terminalreporter.write_sep("!", f"{len(skipped)} notebook test(s) SKIPPED: the notebooks did not run", red=True)
        terminalreporter.write_line(f"first reason: {reason}")
