"""Fixtures of the notebook tests: the official checkpoints for the kernels, the embedded sample data."""
from __future__ import annotations

import pytest

from tests.notebooks.harness import NOTEBOOKS, zoo_folder


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


@pytest.fixture(scope="session")
def workbook_01_to_04(tmp_path_factory):
    """Notebooks 01, 02, 03 and 04 in quick mode on the embedded sample, as ``slimrlfn workbook`` runs them: once per
    session, for the tests of 01, 03, 04 and 05 (02 runs on its own, with one thread)."""
    from slimrlfn.data.sample import make_sample
    from slimrlfn.workbook import run_workbook

    zoo = zoo_folder()
    root = tmp_path_factory.mktemp("workbook")
    make_sample(root / "data", progress=False)
    with pytest.MonkeyPatch.context() as patch:  # the kernels run in notebooks/: point them at the checkpoints
        patch.setenv("SLIMRLFN_MODEL_ZOO", str(zoo))
        patch.setenv("SLIMRLFN_OFFLINE", "1")
        summary = run_workbook(mode="quick", data_dir=root / "data", device="cpu", only=["01_", "02_", "03_", "04_"],
                               out_dir=root / "run", figures_dir=root / "figures",
                               notebooks_dir=NOTEBOOKS)
    statuses = {row["notebook"]: row["status"] for row in summary["notebooks"]}
    assert list(statuses) == ["01_model_definition.ipynb", "02_iterative_pruning.ipynb", "03_evaluation.ipynb",
                              "04_warmup_timing_study.ipynb"]
    assert set(statuses.values()) == {"ok"}, summary["notebooks"]
    return {"data": root / "data", "results": root / "run" / "results", "figures": root / "figures"}
