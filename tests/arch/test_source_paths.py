"""Model references keep naming the user's files from any folder (slimrlfn.arch.source): a derived model of a class
given by a relative path reloads elsewhere, and the workbook hands the notebooks absolute paths."""
from __future__ import annotations

import pytest
import torch

from slimrlfn.arch.derived import save_derived
from slimrlfn.arch.source import absolute_class_path, absolute_model_reference, resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.workbook import model_parameters
from tests.helpers import write_user_model


def test_file_paths_become_absolute_and_names_stay(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.pth").write_bytes(b"")
    assert absolute_class_path("nets/my.py:Net") == f"{tmp_path}/nets/my.py:Net"
    assert absolute_class_path("package.module:Net") == "package.module:Net"
    assert absolute_model_reference("slimrlfn") == "slimrlfn"
    assert absolute_model_reference("runs/final.pth") == f"{tmp_path}/runs/final.pth"
    assert absolute_model_reference("nets/my.py:Net") == f"{tmp_path}/nets/my.py:Net"
    assert absolute_model_reference({"model": "nets/my.py:Net", "checkpoint": "w.pth", "kwargs": {"c": 8}}) == {
        "model": f"{tmp_path}/nets/my.py:Net", "checkpoint": f"{tmp_path}/w.pth", "kwargs": {"c": 8}}
    assert absolute_model_reference('{"checkpoint": "w.pth"}') == {"checkpoint": f"{tmp_path}/w.pth"}


def test_a_derived_model_of_a_relative_class_path_reloads_from_another_folder(tmp_path, monkeypatch):
    write_user_model(tmp_path / "nets" / "tiny_sr.py")
    monkeypatch.chdir(tmp_path)
    spec = resolve_model(model="nets/tiny_sr.py:TinySR", kwargs={"channels": 8})
    assert spec.arguments["model"] == f"{tmp_path}/nets/tiny_sr.py:TinySR"
    path = save_derived(spec.model, tmp_path / "runs" / "d.pth", spec.arguments, [], spec.data_range)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    again = resolve_model(checkpoint=path)
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(again.model(x), spec.model(x))


def test_the_workbook_passes_absolute_model_paths_and_refuses_a_bad_one(tmp_path, monkeypatch):
    write_user_model(tmp_path / "nets" / "tiny_sr.py")
    monkeypatch.chdir(tmp_path)
    given = model_parameters(["slimrlfn", "nets/tiny_sr.py:TinySR"])
    assert given["models"] == ["slimrlfn", f"{tmp_path}/nets/tiny_sr.py:TinySR"]
    with pytest.raises(UserError, match="bogus"):
        model_parameters(["bogus"])


def test_a_name_with_a_path_in_it_is_refused():
    for name in ("../escaped", "a/b", "..", " "):
        with pytest.raises(UserError, match="--name .*plain name"):
            resolve_model(model="slimrlfn", name=name)
    assert resolve_model(model="slimrlfn", name="mine").arguments["name"] == "mine"  # a plain name is fine
