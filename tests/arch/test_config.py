"""slimrlfn.arch.config: configs through JSON, defaults, bad keys named."""
import json

import pytest

from slimrlfn.arch.config import build_model, config_of, validate_config


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


@pytest.mark.parametrize("bad, word", [
    ({"arch": "slimrlfn", "num_blocks": 1, "prune_channels": [10 ** 9, 30]}, "prune_channels"),
    ({"arch": "slimrlfn", "feature_channels": 10 ** 6}, "feature_channels"),
    ({"arch": "slimrlfn", "esa_channels": 10 ** 9}, "esa_channels"),
    ({"arch": "rlfn", "num_blocks": 10 ** 5}, "num_blocks"),
    ({"arch": "slimrlfn", "upscale": True}, "upscale"),
])
def test_widths_too_large_to_build_are_refused_before_any_allocation(bad, word):
    """A typo such as 1e9 channels would ask for a terabyte of weights: refused, naming the key and the bound."""
    with pytest.raises(ValueError, match=word):
        validate_config(bad)


def test_the_widest_allowed_config_still_validates():
    from slimrlfn.arch.config import MAX_WIDTH

    assert validate_config({"arch": "slimrlfn", "num_blocks": 1, "prune_channels": [MAX_WIDTH, 1]})["prune_channels"] == [MAX_WIDTH, 1]
