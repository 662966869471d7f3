"""What an entry's own code does while it loads (slimrlfn.arch.loadwork, slimrlfn.arch.registry_source): its forward
passes and global-state changes recorded and put back, every style of id test read, the photograph check, and the
counts on the real repositories of ../shared."""
from __future__ import annotations

import ast
import json

import pytest
import torch

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.loadwork import torch_state, watch_loading
from slimrlfn.arch.ref import load_model
from slimrlfn.arch.registry_source import ids_of
from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from tests.conftest import shared_dir
from tests.helpers import write_loading_repo


@pytest.fixture
def loading_repo(tmp_path):
    return write_loading_repo(tmp_path / "loading_esr")


def test_forward_passes_while_loading_are_counted_with_their_shapes(loading_repo):
    counts = {i: len(load_model({"challenge_repo": loading_repo, "model_id": i}).loaded["load_forwards"])
              for i in (-1, 0, 1, 2, 5)}
    assert counts == {-1: 0, 0: 0, 1: 1, 2: 3, 5: 0}
    first = load_model({"challenge_repo": loading_repo, "model_id": 1}).loaded["load_forwards"][0]
    assert first["module"] == "Tiny" and first["input_shapes"] == [[1, 3, 64, 64]] and first["ms"] >= 0


def test_global_settings_an_entry_changes_are_recorded_and_put_back(loading_repo):
    before = torch_state()
    spec = load_model({"challenge_repo": loading_repo, "model_id": 2})
    assert spec.loaded["torch_state"] == {"cudnn.benchmark": [False, True], "flush_denormal": [None, True]}
    assert torch_state() == before  # the next model is measured as this process was set up
    assert "torch_state" not in load_model({"challenge_repo": loading_repo, "model_id": 0}).loaded


def test_nested_calls_are_one_forward_and_a_failing_block_still_restores():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1), torch.nn.Sequential(torch.nn.ReLU()))
    with watch_loading() as work:
        net(torch.zeros(1, 3, 4, 4))
        net(torch.zeros(2, 3, 5, 5))
    assert [f["input_shapes"] for f in work["load_forwards"]] == [[[1, 3, 4, 4]], [[2, 3, 5, 5]]]
    threads = torch.get_num_threads()
    with pytest.raises(RuntimeError), watch_loading() as work:
        torch.set_num_threads(max(1, threads - 1) if threads > 1 else 2)
        raise RuntimeError("the entry failed")
    assert torch.get_num_threads() == threads and "num_threads" in work["torch_state"]
    net(torch.zeros(1, 3, 4, 4))
    assert len(work["load_forwards"]) == 0  # the hooks are gone


def test_every_style_of_id_test_is_read(loading_repo):
    repo = ChallengeRepo(loading_repo)
    assert repo.ids() == [-1, 0, 1, 2, 3, 4, 5, 6, 7]
    cases = {"model_id == 3": {3}, "args.model_id == -2": {-2}, "4 == model_id": {4}, "model_id in (5, 6)": {5, 6},
             "model_id in {8}": {8}, "model_id == 1 or args.model_id == 9": {1, 9}, "model_id > 3": set(),
             "name == 3": set(), "model_id == True": set()}
    assert {text: ids_of(ast.parse(text).body[0].value) for text in cases} == cases


def test_an_empty_branch_and_a_negative_id_in_the_listing(loading_repo, tmp_path, capsys):
    with pytest.raises(UserError, match=r"^entry 4: no model in select_model \(its branch is empty\)$"):
        load_model({"challenge_repo": loading_repo, "model_id": 4})
    out = tmp_path / "listing.json"
    assert main(["models", "--challenge_repo", str(loading_repo), "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["id"] for r in rows] == [-1, 0, 1, 2, 3, 4, 5, 6, 7]
    assert {r["id"]: r["load_forwards"] for r in rows} == {-1: 0, 0: 0, 1: 1, 2: 3, 3: 0, 4: None, 5: 0, 6: 0, 7: 0}
    assert rows[0] == {"id": -1, "name": "-1_Baseline", "loads": True, "reason": None, "load_forwards": 0,
                       **{k: rows[0][k] for k in rows[0] if k not in ("id", "name", "loads", "reason", "load_forwards")}}
    assert rows[5]["loads"] is False and "no model in select_model" in rows[5]["reason"]
    printed = capsys.readouterr().out
    assert "load fwd" in printed and " -1  -1_Baseline" in printed


def test_a_model_that_is_nan_on_noise_but_finite_on_photographs_loads(loading_repo):
    spec = load_model({"challenge_repo": loading_repo, "model_id": 3})
    assert not torch.isfinite(spec.model(torch.rand(1, 3, 32, 32))).all()  # noise: NaN
    assert spec.result_name == "03_NaNOnNoise"


#: ../shared/ntire2026_esr: the forward passes each entry's code runs while it loads (read from its code, and the
#: organisers' first-image costs agree: these five pay 6-15 ms on their first image, the others 100-350 ms).
FORWARDS_2026 = {0: 1, 1: 1, 4: 0, 6: 0, 9: 0, 11: 0, 15: 0, 16: 16, 17: 1, 18: 20, 20: 0, 21: 0}


@pytest.mark.shared
def test_the_2026_and_2024_entries_warm_up_as_their_code_says():
    repo_2026 = shared_dir() / "ntire2026_esr"
    repo_2024 = shared_dir() / "ntire2024_esr"
    if not (repo_2026 / "test_demo.py").is_file() or not (repo_2024 / "test_demo.py").is_file():
        pytest.skip(f"the NTIRE 2024 / 2026 repositories are not in {shared_dir()} (set SLIMRLFN_SHARED)")
    found = {i: len(ChallengeRepo(repo_2026).load(i).load_forwards) for i in FORWARDS_2026}
    assert found == FORWARDS_2026
    assert {i: len(ChallengeRepo(repo_2024).load(i).load_forwards) for i in (0, 21, 38, 39)} == \
        {0: 0, 21: 0, 38: 1, 39: 1}


def test_the_results_entry_of_eval_and_profile_say_how_many_forwards_loading_ran(loading_repo, tiny_pairs, tmp_path,
                                                                              capsys):
    assert main(["eval", "--model", f"challenge:{loading_repo}#1", "--data_dir", str(tiny_pairs), "--save_dir",
                 str(tmp_path / "out"), "--device", "cpu", "--backend", "eager", "--no_images"]) == 0
    entry = json.loads((tmp_path / "out" / "results.json").read_text())["01_WarmConstructor"]
    assert len(entry["load_forwards"]) == 1 and entry["ref"]["model_id"] == 1
    out = tmp_path / "p.json"
    assert main(["profile", "--challenge_repo", str(loading_repo), "--model_ids", "1", "2", "--size", "32",
                 "--json", str(out)]) == 0
    assert [row["load_forwards"] for row in json.loads(out.read_text())] == [1, 3]
    assert "load fwd" in capsys.readouterr().out
