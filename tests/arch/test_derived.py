"""slimrlfn.arch.derived: a pruned model of any class saved as JSON record + state_dict, rebuilt bit for bit,
through load_model as the derived kind (records of either source form); bad records and weights in one line."""
from __future__ import annotations

import json

import pytest
import torch

from slimrlfn.arch.derived import is_derived, load_derived, save_derived
from slimrlfn.arch.ref import load_model, resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.prune.anymodel import prune_any
from tests.helpers import write_user_model


@pytest.fixture
def saved(tmp_path):
    user = write_user_model(tmp_path / "mine" / "tiny_sr.py")
    torch.manual_seed(0)
    spec = resolve_model(model=f"{user}:TinySR", kwargs={"channels": 12})
    pruned, removal, _ = prune_any(spec.model, 0.25, spec.data_range)
    path = save_derived(pruned, tmp_path / "out" / "step_01.pth", spec.ref.to_json(), [removal], spec.data_range,
                        {"label": "TinySR-pruned1"})
    return path, pruned, removal


def test_a_derived_model_is_rebuilt_bit_for_bit(saved):
    path, pruned, removal = saved
    assert is_derived(path) and json.loads(path.with_suffix(".json").read_text())["removals"] == [removal]
    model, record, source = load_derived(path, load_model)
    assert source.kind == "class" and record["source"] == source.ref.to_json()
    x = torch.rand(1, 3, 16, 20)
    with torch.no_grad():
        assert torch.equal(model(x), pruned(x))
    assert model.head.out_channels == 9 and record["label"] == "TinySR-pruned1"


def test_resolve_model_takes_it_as_a_checkpoint(saved):
    path, pruned, _ = saved
    spec = resolve_model(checkpoint=path)
    assert (spec.kind, spec.label, spec.data_range, spec.config) == ("derived", "TinySR-pruned1", 1.0, None)
    assert spec.ref.to_json() == {"kind": "derived", "checkpoint": str(path.resolve())}
    assert spec.loaded["derived_from"]["kind"] == "class"
    again = load_model(spec.ref.to_json())  # what a worker process does
    assert again.kind == "derived" and again.model.head.out_channels == 9


def test_a_record_or_weights_that_do_not_fit_are_one_line(saved):
    path, _, _ = saved
    record = json.loads(path.with_suffix(".json").read_text())
    record["removals"] = [{"head": list(range(20))}]
    path.with_suffix(".json").write_text(json.dumps(record))
    with pytest.raises(UserError, match="its removals do not fit the source model"):
        load_derived(path, resolve_model)
    record["removals"] = []
    path.with_suffix(".json").write_text(json.dumps(record))
    with pytest.raises(UserError, match="does not fit its derived model"):
        load_derived(path, resolve_model)
    path.with_suffix(".json").write_text("{not json")
    assert not is_derived(path)
    with pytest.raises(UserError, match="not a derived-model record"):
        load_derived(path, resolve_model)


def test_a_pickled_module_is_never_unpickled(saved, tmp_path):
    path, pruned, _ = saved
    torch.save(pruned, path)  # a whole module where the state_dict belongs
    with pytest.raises(UserError, match="cannot be read as weights only .* never unpickled"):
        load_derived(path, resolve_model)


def test_a_record_that_keeps_the_keyword_form_of_its_source_reads_the_same(saved):
    """Records written before references had a JSON form store the flags' keyword form: they load unchanged."""
    path, pruned, _ = saved
    record = json.loads(path.with_suffix(".json").read_text())
    source = dict(record["source"])
    assert source.pop("kind") == "class"
    record["source"] = source  # {"model": ".../tiny_sr.py:TinySR", "kwargs": {"channels": 12}}
    path.with_suffix(".json").write_text(json.dumps(record))
    x = torch.rand(1, 3, 16, 20)
    with torch.no_grad():
        assert torch.equal(load_model(str(path)).model(x), pruned(x))
