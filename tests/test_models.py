import json

import pytest
import torch

from slimrlfn.models import MIN_INPUT_SIZE, RLFN, SlimRLFN, build_model, config_of, default_config, validate_config


@pytest.mark.parametrize("arch", ["rlfn", "slimrlfn"])
def test_forward_shape_is_four_times_the_input(arch):
    model = build_model(default_config(arch)).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 17, 23) * 255)
    assert out.shape == (1, 3, 68, 92)


def test_official_key_names_and_counts():
    rlfn = RLFN()
    slim = SlimRLFN()
    prune = SlimRLFN(prune_channels=[28] * 10 + [30, 30])
    assert "block_4.esa.conv_f.weight" in rlfn.state_dict() and "upsampler.0.weight" in rlfn.state_dict()
    assert "block_list.5.esa.conv4.bias" in slim.state_dict() and "upsampler.upsample_conv.weight" in slim.state_dict()
    assert not any("conv_f" in k for k in slim.state_dict())
    assert sum(p.numel() for p in rlfn.parameters()) == 317218
    assert sum(p.numel() for p in slim.parameters()) == 207774
    assert sum(p.numel() for p in prune.parameters()) == 197134


@pytest.mark.parametrize("config", [
    {"arch": "slimrlfn", "prune_channels": [28] * 10 + [30, 30]},
    {"arch": "slimrlfn", "feature_channels": 24, "num_blocks": 3, "esa_channels": 8},
    {"arch": "rlfn", "num_blocks": 2, "prune_channels": [40, 32, 48, 44]},
])
def test_config_round_trip_through_json(config):
    model = build_model(config)
    again = build_model(json.loads(json.dumps(config_of(model))))
    assert config_of(again) == config_of(model) == validate_config(config)
    assert [tuple(v.shape) for v in again.state_dict().values()] == [tuple(v.shape) for v in model.state_dict().values()]


def test_defaults_follow_feature_width_and_block_count():
    config = validate_config({"arch": "slimrlfn", "feature_channels": 20, "num_blocks": 2})
    assert config["prune_channels"] == [20] * 4


@pytest.mark.parametrize("bad, word", [
    ({"arch": "edsr"}, "unknown architecture"),
    ({"arch": "slimrlfn", "prune_channels": [30] * 11}, "prune_channels"),
    ({"arch": "slimrlfn", "feature_channels": 0}, "feature_channels"),
    ({"arch": "slimrlfn", "colour": 1}, "unknown model config keys"),
    ({"feature_channels": 30}, "'arch'"),
])
def test_bad_configs_name_the_key(bad, word):
    with pytest.raises(ValueError, match=word):
        validate_config(bad)


def test_esa_needs_the_documented_minimum_size():
    model = build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}).eval()
    with torch.no_grad():
        model(torch.rand(1, 3, MIN_INPUT_SIZE, MIN_INPUT_SIZE))
        with pytest.raises(RuntimeError):
            model(torch.rand(1, 3, MIN_INPUT_SIZE - 1, MIN_INPUT_SIZE - 1))
