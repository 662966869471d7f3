"""slimrlfn.arch.external and the class kind of model (slimrlfn.arch.kinds): your own network from a file, its
arguments and weights, data_range, the non-strict report, and every bad input in one line."""
from __future__ import annotations

import pytest
import torch

from slimrlfn.arch.external import check_sr_model
from slimrlfn.arch.ref import load_model, resolve_model
from slimrlfn.core.errors import UserError
from tests.helpers import write_user_model


@pytest.fixture
def net_file(tmp_path):
    return write_user_model(tmp_path / "user_models" / "tiny_sr.py")


@pytest.fixture
def weights(net_file, tmp_path):
    torch.manual_seed(0)
    model = resolve_model(model=f"{net_file}:TinySR", kwargs={"channels": 6}).model
    path = tmp_path / "w.pth"
    torch.save({"params": model.state_dict(), "step": torch.tensor(3)}, path)
    return path, model


def test_a_class_with_kwargs_and_weights_under_a_key(net_file, weights):
    path, original = weights
    spec = resolve_model(model=f"{net_file}:TinySR", kwargs='{"channels": 6}', checkpoint=path, state_key="params")
    assert spec.kind == "class" and spec.label == "TinySR" and spec.data_range == 1.0 and spec.config is None
    x = torch.rand(1, 3, 20, 24)
    assert torch.equal(spec.model(x), original(x))
    again = load_model(spec.ref.to_json())  # what a worker process does
    assert torch.equal(again.model(x), spec.model(x)) and again.data_range == 1.0


def test_data_range_255_and_the_json_text_form(net_file, weights):
    path, _ = weights
    text = f'{{"model": "{net_file}:TinySR", "kwargs": {{"channels": 6}}, "checkpoint": "{path}", ' \
           f'"state_key": "params", "data_range": 255, "name": "mine"}}'
    spec = load_model(text)
    assert spec.data_range == 255.0 and spec.result_name == "mine"


def test_a_non_strict_load_reports_the_keys(net_file, tmp_path):
    model = resolve_model(model=f"{net_file}:TinySR").model
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("tail")}
    state["extra.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "part.pth")
    with pytest.raises(UserError, match=r"missing keys: tail.weight, tail.bias; unexpected keys: extra.weight"):
        resolve_model(model=f"{net_file}:TinySR", checkpoint=tmp_path / "part.pth")
    spec = resolve_model(model=f"{net_file}:TinySR", checkpoint=tmp_path / "part.pth", strict=False)
    assert spec.loaded["non_strict_load"] == {"missing": ["tail.weight", "tail.bias"], "unexpected": ["extra.weight"]}


@pytest.mark.parametrize("arguments, message", [
    (dict(model="nowhere.py:Net"), "no such file nowhere.py"),
    (dict(model="{file}:Missing"), "no nn.Module class Missing in .* \\(it has Half, NeedsCuda, NotFinite, TinySR\\)"),
    (dict(model="{file}:TinySR", kwargs='{"width": 3}'), "--kwargs .*do not fit TinySR"),
    (dict(model="{file}:TinySR", kwargs="[1]"), "expected a JSON object"),
    (dict(model="{file}:TinySR", kwargs='{"channels": 9}', checkpoint="{weights}", state_key="params"),
     "does not fit TinySR: shape mismatches"),
    (dict(model="{file}:TinySR", checkpoint="{weights}", state_key="ema"), "--state_key ema: .* has no such key"),
    (dict(model="{file}:TinySR", checkpoint="{nested}"), "expected a state_dict .*net: give --state_key"),
    (dict(model="{file}:Half"), "gives 1x3x32x32, expected 1x3x256x256"),
    (dict(model="{file}:NotFinite"), "not finite"),
    (dict(model="{file}:TinySR", data_range=2), "--data_range 2.*expected 1"),
    (dict(model="no_such_package_here.module:Net"), "module no_such_package_here.module cannot be imported"),
    (dict(model="{file}"), "expected path/to/file.py:ClassName"),
])
def test_bad_input_is_one_line(net_file, weights, arguments, message):
    nested = weights[0].with_name("nested.pth")
    torch.save({"net": weights[1].state_dict()}, nested)  # a wrapper key the reader does not know
    arguments = {k: v.replace("{file}", str(net_file)).replace("{weights}", str(weights[0]))
                 .replace("{nested}", str(nested)) if isinstance(v, str) else v for k, v in arguments.items()}
    if ":" not in arguments["model"] and arguments["model"].endswith(".py"):
        with pytest.raises(UserError, match=message):
            load_model(arguments["model"])
        return
    with pytest.raises(UserError, match=message) as info:
        resolve_model(**arguments)
    assert "\n" not in str(info.value)


def test_a_model_that_needs_cuda_is_refused_on_a_cpu(net_file):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UserError, match="needs a CUDA device, but the device is cpu"):
        resolve_model(model=f"{net_file}:NeedsCuda")


def test_a_pickled_module_checkpoint_is_refused_never_unpickled(net_file, tmp_path):
    model = resolve_model(model=f"{net_file}:TinySR").model
    torch.save(model, tmp_path / "pickled.pth")  # a whole module: needs weights_only=False
    with pytest.raises(UserError, match="cannot be read as weights only .* never unpickled"):
        resolve_model(model=f"{net_file}:TinySR", checkpoint=tmp_path / "pickled.pth")


def test_check_sr_model_takes_the_scale_and_range():
    upsample = torch.nn.Upsample(scale_factor=2)
    check_sr_model(upsample, 1.0, 2, torch.device("cpu"), "x2")
    with pytest.raises(UserError, match="expected 1x3x256x256 \\(x4"):
        check_sr_model(upsample, 255.0, 4, torch.device("cpu"), "x2 as x4")
