"""slimrlfn.arch.weights: the one reader of checkpoint files (weights_only, never an unpickle), and the wrappers of
common training code unwrapped in one list."""
from __future__ import annotations

import pytest
import torch

from slimrlfn.arch.config import build_model
from slimrlfn.arch.weights import WRAPPER_KEYS, load_weights_only, read_weights
from slimrlfn.core.errors import UserError


@pytest.fixture
def state():
    torch.manual_seed(0)
    return build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}).state_dict()


def _same(a, b) -> bool:
    return list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("wrap", [
    lambda s: s,
    lambda s: {"params": s, "iter": torch.tensor(3)},
    lambda s: {"params_ema": s},
    lambda s: {"state_dict": s, "epoch": torch.tensor(1)},
    lambda s: {f"module.{k}": v for k, v in s.items()},
    lambda s: {"params": {f"module.{k}": v for k, v in s.items()}},
], ids=["plain", "params", "params_ema", "state_dict", "module-prefix", "params-and-prefix"])
def test_common_wrappers_are_unwrapped(tmp_path, state, wrap):
    torch.save(wrap(state), tmp_path / "w.pth")
    assert _same(read_weights(tmp_path / "w.pth"), state)


def test_the_order_is_spandrels_and_a_state_key_overrides_it(tmp_path, state):
    other = {k: v + 1 for k, v in state.items()}
    torch.save({"params": state, "params_ema": other}, tmp_path / "both.pth")
    assert WRAPPER_KEYS == ("state_dict", "params_ema", "params")
    assert _same(read_weights(tmp_path / "both.pth"), other)  # the EMA weights, as BasicSR tests with them
    assert _same(read_weights(tmp_path / "both.pth", state_key="params"), state)
    with pytest.raises(UserError, match=r"--state_key ema: .* has no such key"):
        read_weights(tmp_path / "both.pth", state_key="ema")


def test_a_prefix_the_model_itself_has_is_kept(tmp_path):
    class Holder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.module = torch.nn.Conv2d(3, 3, 1)

    model = Holder()
    torch.save(model.state_dict(), tmp_path / "w.pth")
    assert list(read_weights(tmp_path / "w.pth", model=model)) == ["module.weight", "module.bias"]
    assert list(read_weights(tmp_path / "w.pth")) == ["weight", "bias"]


def test_pickled_modules_and_corrupt_files_are_refused(tmp_path):
    torch.save(build_model({"arch": "slimrlfn", "num_blocks": 1}), tmp_path / "module.pth")
    with pytest.raises(UserError, match="cannot be read as weights only .* never unpickled"):
        read_weights(tmp_path / "module.pth")
    (tmp_path / "corrupt.pth").write_bytes(b"not a torch file")
    with pytest.raises(UserError, match="corrupt.pth"):
        read_weights(tmp_path / "corrupt.pth")
    with pytest.raises(UserError, match="--resume .*absent.pth: no such file"):
        load_weights_only(tmp_path / "absent.pth", "--resume")
    torch.save({"net": {"a": 1}}, tmp_path / "nested.pth")
    with pytest.raises(UserError, match="expected a state_dict .*it holds net: give --state_key"):
        read_weights(tmp_path / "nested.pth")
