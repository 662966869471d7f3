from slimrlfn.arch.zoo import ZOO
from slimrlfn.field.plan import QUICK_IDS, field_plan, find_challenge_repo


def test_without_a_repository_the_field_is_the_zoo(tmp_path, monkeypatch, tiny_pairs):
    monkeypatch.setenv("SLIMRLFN_SHARED", str(tmp_path / "nothing"))
    monkeypatch.delenv("SLIMRLFN_CHALLENGE_REPO", raising=False)
    assert find_challenge_repo() is None
    plan = field_plan(True, tiny_pairs, extra_models=["slimrlfn_prune"])
    assert plan["challenge_repo"] is None and plan["models"] == list(ZOO)
    assert plan["data_dirs"] == [str(tiny_pairs)] and plan["runs"] == 2 and "zoo" in plan["why"]


def test_quick_and_full_plans_of_a_repository(fake_repo, tiny_pairs, tmp_path, monkeypatch):
    monkeypatch.setenv("SLIMRLFN_SHARED", str(tmp_path / "nothing"))
    monkeypatch.setenv("SLIMRLFN_CHALLENGE_REPO", str(fake_repo))
    quick = field_plan(True, tiny_pairs, extra_models=["slimrlfn_prune"])
    assert quick["challenge_repo"] == str(fake_repo)
    assert quick["model_ids"] == [i for i in QUICK_IDS if i <= 8], "the quick ids this repository has"
    assert quick["models"] == [] and quick["runs"] == 2
    full = field_plan(False, tiny_pairs, extra_models=["slimrlfn_prune"], runs=3)
    assert full["model_ids"] is None and full["models"] == ["slimrlfn_prune"] and full["runs"] == 3
    given = field_plan(True, tiny_pairs, fake_repo, model_ids=[5, 6], data_dirs=[tiny_pairs])
    assert given["model_ids"] == [5, 6] and given["data_dirs"] == [str(tiny_pairs)]


def test_shared_benchmark_sets_are_preferred_to_the_sample(set5_dir, set14_dir, tiny_pairs, monkeypatch):
    monkeypatch.setenv("SLIMRLFN_SHARED", str(set5_dir.parents[1]))
    assert field_plan(True, tiny_pairs)["data_dirs"] == [str(set5_dir)]
    assert field_plan(False, tiny_pairs)["data_dirs"] == [str(set5_dir), str(set14_dir)]
