"""slimrlfn.arch.ref and slimrlfn.arch.kinds: one value for "which model", one parser of every form, one JSON form
that round-trips, absolute paths that keep naming the user's files from any folder, and the table of kinds."""
from __future__ import annotations

import json
import os

import pytest
import torch

from slimrlfn.arch.derived import save_derived
from slimrlfn.arch.kinds import COMMON_KEYS, KINDS, Kind
from slimrlfn.arch.ref import kind_of_prefix
from slimrlfn.arch.ref import ModelRef, load_model, resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.workbook import model_parameters
from tests.helpers import write_user_model


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A folder with a model class, a checkpoint and a derived record in it, as the current folder."""
    monkeypatch.chdir(tmp_path)
    write_user_model(tmp_path / "nets" / "my.py")
    (tmp_path / "w.pth").write_bytes(b"")
    (tmp_path / "d.json").write_text(json.dumps({"kind": "slimrlfn-derived", "source": "slimrlfn", "removals": []}))
    (tmp_path / "d.pth").write_bytes(b"")
    return tmp_path


#: (form given, kind, args) for every text form and the dict forms.
FORMS = [
    ("slimrlfn", "zoo", {"model": "slimrlfn"}),
    ("zoo:rlfn", "zoo", {"model": "rlfn"}),
    ("w.pth", "checkpoint", {"checkpoint": "w.pth"}),
    ("ckpt:w.pth", "checkpoint", {"checkpoint": "w.pth"}),
    ("checkpoint:w.pth", "checkpoint", {"checkpoint": "w.pth"}),
    ("d.pth", "derived", {"checkpoint": "d.pth"}),  # the .json beside it is a derived record
    ("derived:d.pth", "derived", {"checkpoint": "d.pth"}),
    ("nets/my.py:TinySR", "class", {"model": "nets/my.py:TinySR"}),
    ("class:nets/my.py:TinySR", "class", {"model": "nets/my.py:TinySR"}),
    ("package.module:Net", "class", {"model": "package.module:Net"}),
    ("challenge:repo#38", "challenge", {"challenge_repo": "repo", "model_id": 38}),
    ("challenge:repo#21+prune", "challenge", {"challenge_repo": "repo", "model_id": 21, "use_prune": True}),
    ("challenge:repo#-1", "challenge", {"challenge_repo": "repo", "model_id": -1}),
    ('{"model": "slimrlfn", "name": "mine"}', "zoo", {"model": "slimrlfn", "name": "mine"}),
    ({"model_id": 0}, "zoo", {"model": "rlfn"}),
    ({"model_id": 21, "use_prune": True}, "zoo", {"model": "slimrlfn_prune"}),
    ({}, "zoo", {"model": "slimrlfn"}),
    ({"challenge_repo": "repo", "model_id": 3}, "challenge", {"challenge_repo": "repo", "model_id": 3}),
    ({"checkpoint": "w.pth", "config": "c.json"}, "checkpoint", {"checkpoint": "w.pth", "config": "c.json"}),
    ({"checkpoint": "d.pth"}, "derived", {"checkpoint": "d.pth"}),
    ({"model": "nets/my.py:TinySR", "kwargs": '{"channels": 8}', "data_range": 255, "strict": False},
     "class", {"model": "nets/my.py:TinySR", "kwargs": {"channels": 8}, "data_range": 255.0, "strict": False}),
    ({"model": "nets/my.py:TinySR", "data_range": 1, "strict": True, "kwargs": {}}, "class",
     {"model": "nets/my.py:TinySR"}),  # defaults are dropped: one model, one reference
    ({"model": "slimrlfn", "data_range": 255, "use_prune": False}, "zoo", {"model": "slimrlfn"}),
    ({"kind": "class", "model": "pkg.mod:Net", "state_key": "params"}, "class",
     {"model": "pkg.mod:Net", "state_key": "params"}),
    ({"model": "zoo:rlfn", "name": "base"}, "zoo", {"model": "rlfn", "name": "base"}),
]


@pytest.mark.parametrize("given, kind, args", FORMS, ids=[str(f[0])[:40] for f in FORMS])
def test_every_form_parses_and_round_trips_through_json_and_text(here, given, kind, args):
    ref = ModelRef.parse(given)
    assert (ref.kind, dict(ref.args)) == (kind, args)
    assert ModelRef.parse(json.loads(json.dumps(ref.to_json()))) == ref  # the JSON form records store
    assert ModelRef.parse(ref.text()) == ref  # the shortest text form
    assert ModelRef.parse(ref) is ref and hash(ref) == hash(ModelRef.parse(ref.to_json()))


def test_absolute_paths_name_the_same_files_from_another_folder(here, monkeypatch):
    refs = [ModelRef.parse(form).absolute() for form, _, _ in FORMS]
    by_path = {key: value for ref in refs for key, value in ref.args.items()
               if key in KINDS[ref.kind].paths and key != "model"}
    assert all(os.path.isabs(path) and path.startswith(str(here)) for path in by_path.values())
    assert ModelRef.parse("nets/my.py:TinySR").absolute().args["model"] == f"{here}/nets/my.py:TinySR"
    assert ModelRef.parse("package.module:Net").absolute().args["model"] == "package.module:Net"
    assert ModelRef.parse("slimrlfn").absolute() == ModelRef.parse("slimrlfn")
    (here / "elsewhere").mkdir()
    monkeypatch.chdir(here / "elsewhere")
    assert [ModelRef.parse(ref.to_json()).absolute() for ref in refs] == refs  # absolute once, stays so


@pytest.mark.parametrize("given, message", [
    ("bogus", "--model 'bogus': unknown model; expected a zoo name"),
    ("nets/my.py", "a model file needs its class"),
    ("zoo:bogus", "unknown model; expected a zoo name"),
    ("challenge:repo", "expected challenge:DIR#ID"),
    ("challenge:repo#x", "expected challenge:DIR#ID"),
    ('{"model": "slimrlfn", "colour": 1}', r"unknown keys \['colour'\]"),
    ('{"kind": "teapot"}', "unknown kind 'teapot'"),
    ("{not json", "not valid JSON"),
    ({"challenge_repo": "repo"}, "--challenge_repo: give --model_id N"),
    ({"challenge_repo": "repo", "model_id": 1, "model": "slimrlfn"}, "--model: give either it or --challenge_repo"),
    ({"challenge_repo": "repo", "model_id": 1, "state_key": "p"}, "--state_key: only for a model class"),
    ({"challenge_repo": "repo", "model_id": "x"}, "--model_id 'x': expected an integer"),
    ({"checkpoint": "w.pth", "model_id": 0}, "give either --checkpoint or --model/--model_id"),
    ({"model": "slimrlfn", "model_id": 0}, "give either --model or --model_id"),
    ({"model": "slimrlfn", "data_range": 1}, "--data_range: only for a model class"),
    ({"model": "slimrlfn", "use_prune": True}, "--use_prune: not for a zoo model"),
    ({"model": "nets/my.py:Net", "data_range": "abc"}, "--data_range abc: expected 1"),
    ({"model": "nets/my.py:Net", "data_range": float("nan")}, "--data_range nan: expected 1"),
    ({"model_id": 5}, "--model_id 5: expected 0 .* or 21"),
    ({"model_id": 0, "use_prune": True}, "--use_prune: only with --model_id 21"),
    ({"kind": "derived"}, "a derived .* needs --checkpoint"),
    ({"model": "slimrlfn", "name": "../escaped"}, "--name .*plain name"),
])
def test_bad_references_are_one_line_naming_the_flag(here, given, message):
    with pytest.raises(UserError, match=message) as info:
        ModelRef.parse(given)
    assert "\n" not in str(info.value)


def test_a_name_with_a_path_in_it_is_refused():
    for name in ("../escaped", "a/b", "..", " ", "x" * 201):
        with pytest.raises(UserError, match="--name .*plain name"):
            resolve_model(model="slimrlfn", name=name)
    assert ModelRef.parse({"model": "slimrlfn", "name": "mine"}).args["name"] == "mine"  # a plain name is fine


def test_the_table_of_kinds_is_the_grammar():
    """Each kind declares its keys, paths, defaults and prefixes; the parser knows nothing else of them."""
    assert list(KINDS) == ["zoo", "checkpoint", "class", "challenge", "derived"]
    for kind in KINDS.values():
        assert set(kind.paths) <= set(kind.keys) and set(kind.required) <= set(kind.keys)
        assert set(kind.defaults) <= set(kind.keys) and kind_of_prefix(kind.prefixes[0]) is kind
        assert "name" not in kind.keys and COMMON_KEYS == ("name",)


def test_a_new_kind_is_one_row(monkeypatch, tmp_path):
    """A kind added to the table parses, round-trips and loads with no other change."""
    from slimrlfn.arch.spec import ModelSpec

    def load(ref, _load):
        return ModelSpec(ref, torch.nn.Upsample(scale_factor=float(ref.args["model"])), "up", "up")

    row = Kind("upsample", ("up",), "an upsampler", ("model",), load, required=("model",),
               body=lambda args: str(args["model"]), from_body=lambda body: {"model": body})
    monkeypatch.setitem(KINDS, "upsample", row)
    ref = ModelRef.parse("up:4")
    assert ref.to_json() == {"kind": "upsample", "model": "4"} and ModelRef.parse(ref.to_json()) == ref
    assert load_model("up:4").model(torch.ones(1, 3, 2, 2)).shape == (1, 3, 8, 8)


def test_a_derived_model_of_a_relative_class_path_reloads_from_another_folder(tmp_path, monkeypatch):
    write_user_model(tmp_path / "nets" / "tiny_sr.py")
    monkeypatch.chdir(tmp_path)
    spec = resolve_model(model="nets/tiny_sr.py:TinySR", kwargs={"channels": 8})
    assert spec.ref.args["model"] == f"{tmp_path}/nets/tiny_sr.py:TinySR"
    path = save_derived(spec.model, tmp_path / "runs" / "d.pth", spec.ref.to_json(), [], spec.data_range)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    again = load_model(str(path))
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(again.model(x), spec.model(x))


def test_the_workbook_passes_absolute_model_references_and_refuses_a_bad_one(tmp_path, monkeypatch):
    write_user_model(tmp_path / "nets" / "tiny_sr.py")
    monkeypatch.chdir(tmp_path)
    given = model_parameters(["nets/tiny_sr.py:TinySR"])
    assert given["models"] == [{"kind": "class", "model": f"{tmp_path}/nets/tiny_sr.py:TinySR"}]
    with pytest.raises(UserError, match="bogus"):
        model_parameters(["bogus"])
