import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.field.members import choose_baseline, list_members, load_member, short_name


def test_entries_then_models_and_a_failing_entry_keeps_its_reason(fake_repo):
    members = list_members(fake_repo, [0, 1], ["rlfn"])
    assert [m.hint for m in members] == ["entry 0", "entry 1", "rlfn"]
    assert members[0].ref.to_json() == {"kind": "challenge", "challenge_repo": str(fake_repo.resolve()), "model_id": 0}
    loaded = load_member(members[0])
    assert loaded.key == "00_Tiny" and loaded.spec.data_range == 255.0 and loaded.error is None
    failed = load_member(members[1])
    assert failed.spec is None and failed.key == "01" and "missing file models/team01_Gone.py" in failed.error


def test_json_models_and_bad_input(fake_repo):
    (member,) = list_members(models=['{"model": "rlfn"}'])
    assert member.ref.to_json() == {"kind": "zoo", "model": "rlfn"} and member.hint == "rlfn"
    with pytest.raises(UserError, match="--models '{nope': not valid JSON"):
        list_members(models=["{nope"])
    with pytest.raises(UserError, match="--model_ids: give --challenge_repo"):
        list_members(model_ids=[0])
    with pytest.raises(UserError, match="give a challenge repository or at least one model"):
        list_members()
    with pytest.raises(UserError, match="--model_ids 42"):
        list_members(fake_repo, [42])


def test_the_baseline_is_the_given_key_else_the_00_entry_else_the_first():
    assert choose_baseline(["21_SlimRLFN", "00_RLFN_baseline"]) == "00_RLFN_baseline"
    assert choose_baseline(["b", "a"]) == "b"
    assert choose_baseline(["21_SlimRLFN", "00_RLFN_baseline"], "21_SlimRLFN") == "21_SlimRLFN"
    with pytest.raises(UserError, match="no member that loads"):
        choose_baseline([])
    assert short_name("38_SPAN") == "SPAN" and short_name("SlimRLFN-prune") == "SlimRLFN-prune"
