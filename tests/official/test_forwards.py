"""slimrlfn.official.forwards: each entry's load-time forward passes, from loading it through its own code."""
from __future__ import annotations

import pytest

from slimrlfn.official.forwards import load_forwards
from tests.conftest import shared_dir
from tests.helpers import write_loading_repo


def test_counts_from_loading_and_unknown_with_the_reason(tmp_path):
    repo = write_loading_repo(tmp_path / "loading_esr")
    found = load_forwards(repo, [0, 1, 2, 4, 9, None])
    assert {i: found[i]["count"] for i in (0, 1, 2)} == {0: 0, 1: 1, 2: 3}
    assert found[4]["count"] is None and found[4]["why"].startswith("does not load here: ")
    assert found[9] == {"count": None, "why": "no entry 9 in test_demo.py's select_model"}
    assert load_forwards(repo, [1], load=False) == {1: {"count": None, "why": "not loaded (--no_load)"}}
    assert load_forwards(None, [1])[1]["why"] == "not loaded (no --challenge_repo)"


@pytest.mark.shared
def test_2026_entries_that_warm_up_and_those_that_do_not_load_here():
    repo = shared_dir() / "ntire2026_esr"
    if not (repo / "test_demo.py").is_file():
        pytest.skip(f"the NTIRE 2026 ESR repository not found in {repo} (set SLIMRLFN_SHARED)")
    found = load_forwards(repo, [0, 15, 5, 22])
    assert found[0] == {"count": 1, "why": None} and found[15] == {"count": 0, "why": None}
    assert "missing file model_zoo/team05" in found[5]["why"] and "runs a program while it loads" in found[22]["why"]
