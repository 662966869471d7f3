"""Fixtures of the notebook tests: the official checkpoints for the kernels, the embedded sample data."""
from __future__ import annotations

import pytest

from tests.notebooks.harness import zoo_folder


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
