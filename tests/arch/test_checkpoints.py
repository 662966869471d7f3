import json

import pytest
import torch

from slimrlfn.arch.checkpoints import (
    infer_config,
    load_checkpoint,
    load_state_dict_checked,
    save_checkpoint,
    weights_digest,
)
from slimrlfn.arch.config import build_model, config_of
from slimrlfn.core.errors import UserError


def test_save_and_load_rebuild_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    model = build_model({"arch": "slimrlfn", "feature_channels": 12, "num_blocks": 2,
                         "prune_channels": [10, 7, 12, 9]}).eval()
    path = save_checkpoint(model, tmp_path / "pruned.pth", extra={"step": 3})
    document = json.loads((tmp_path / "pruned.json").read_text())
    assert document["config"]["prune_channels"] == [10, 7, 12, 9] and document["meta"] == {"step": 3}
    again, config = load_checkpoint(path)
    x = torch.rand(1, 3, 20, 24) * 255
    with torch.no_grad():
        assert torch.equal(model(x), again(x))
    assert config == config_of(model)


@pytest.mark.parametrize("config", [
    {"arch": "rlfn"},
    {"arch": "slimrlfn", "prune_channels": [28] * 10 + [30, 30]},
    {"arch": "slimrlfn", "feature_channels": 16, "num_blocks": 3, "prune_channels": [9, 8, 16, 4, 5, 6], "esa_channels": 8},
])
def test_infer_config_reads_the_architecture_off_the_shapes(config):
    model = build_model(config)
    assert infer_config(model.state_dict()) == config_of(model)


def test_bare_official_layout_state_dict_loads_without_config(tmp_path):
    model = build_model({"arch": "slimrlfn", "num_blocks": 2, "prune_channels": [28, 26, 30, 30]})
    torch.save(model.state_dict(), tmp_path / "bare.pth")
    _, config = load_checkpoint(tmp_path / "bare.pth")
    assert config["prune_channels"] == [28, 26, 30, 30]


def test_mismatch_lists_keys_shapes_and_suggests_prune_channels():
    target = build_model({"arch": "slimrlfn"})
    other = build_model({"arch": "slimrlfn", "prune_channels": [28] * 10 + [30, 30]})
    with pytest.raises(UserError) as info:
        load_state_dict_checked(target, other.state_dict(), "x.pth")
    message = str(info.value)
    assert "\n" not in message
    assert "block_list.0.c1_r.weight (28, 30, 3, 3) vs (30, 30, 3, 3)" in message
    assert "prune_channels=[28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 30, 30]" in message


def test_missing_and_unexpected_keys_are_listed():
    target = build_model({"arch": "slimrlfn", "num_blocks": 1})
    state = dict(target.state_dict())
    state.pop("conv_2.bias")
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(UserError, match=r"missing keys: conv_2.bias; unexpected keys: extra.weight"):
        load_state_dict_checked(target, state, "x.pth")


def test_checkpoint_path_must_end_in_pth(tmp_path):
    with pytest.raises(UserError, match=".pth"):
        save_checkpoint(build_model({"arch": "slimrlfn", "num_blocks": 1}), tmp_path / "model.bin")


def test_weights_digest_follows_the_values_not_the_object():
    torch.manual_seed(0)
    model = build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1, "esa_channels": 4})
    twin = build_model(config_of(model))
    twin.load_state_dict(model.state_dict())
    assert weights_digest(twin) == weights_digest(model)
    with torch.no_grad():
        twin.conv_1.bias[0] += 1e-6
    assert weights_digest(twin) != weights_digest(model)
