"""slimrlfn.prune.groups and units: exact surgery, the dependency groups of each architecture, pruned configs that load."""
from __future__ import annotations

import pytest
import torch

from slimrlfn.arch.checkpoints import load_checkpoint, save_checkpoint
from slimrlfn.arch.config import build_model, config_of, validate_config
from slimrlfn.arch.rlfn import SlimRLFN
from slimrlfn.prune.criteria import channel_scores, lowest
from slimrlfn.prune.groups import ChannelGroups, mask_model, prune_model
from slimrlfn.prune.units import config_with_widths, unit_widths, units_of

TINY_SLIM = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 7, 8, 5],
             "esa_channels": 4}


TINY_RLFN = {"arch": "rlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 7, 8, 5],
             "esa_channels": 4}


def random_removal(model, kinds, count=2, seed=0):
    """``count`` random channels of every unit of the given kinds (each subgroup its own)."""
    generator = torch.Generator().manual_seed(seed)
    groups = ChannelGroups(model)
    wanted = {u.name for u in units_of(config_of(model), kinds)}
    return {unit: [sorted(torch.randperm(s.size, generator=generator)[:count].tolist()) for s in subs]
            for unit, subs in groups.subgroups.items() if unit in wanted}


@pytest.mark.parametrize("config", [TINY_SLIM, TINY_RLFN], ids=["slimrlfn", "rlfn"])
@pytest.mark.parametrize("kinds", [["inner"], ["esa"], ["feature"], ["inner", "esa", "feature"]],
                         ids=["inner", "esa", "feature", "all"])
def test_surgery_equals_the_masked_model(config, kinds):
    torch.manual_seed(0)
    model = build_model(config).eval()
    removal = random_removal(model, kinds)
    pruned, masked = prune_model(model, removal).eval(), mask_model(model, removal).eval()
    x = torch.rand(2, 3, 17, 19) * 255
    with torch.no_grad():
        out_pruned, out_masked, out_full = pruned(x), masked(x), model(x)
    assert out_pruned.shape == out_full.shape
    torch.testing.assert_close(out_pruned, out_masked, atol=2e-3, rtol=1e-4)
    assert not torch.allclose(out_pruned, out_full, atol=1e-2)  # something was really removed
    before, after = unit_widths(config), unit_widths(config_of(pruned))
    for unit in before:
        assert after[unit] == before[unit] - (2 if unit in removal else 0), unit
    assert sum(p.numel() for p in pruned.parameters()) < sum(p.numel() for p in model.parameters())


def test_dependency_groups_match_the_architecture():
    """Inner widths: one group each; ESA: 2 groups (SlimRLFN) or 3 (RLFN, conv_f); features: one per block boundary."""
    slim = ChannelGroups(build_model(TINY_SLIM)).subgroups
    rlfn = ChannelGroups(build_model(TINY_RLFN)).subgroups
    assert sorted(slim) == sorted(u.name for u in units_of(TINY_SLIM))
    assert [len(slim[u]) for u in ("b1.c1_r", "b1.c2_r", "b2.esa", "features")] == [1, 1, 2, 3]
    assert [len(rlfn[u]) for u in ("b1.c1_r", "b1.esa", "features")] == [1, 3, 3]
    assert [s.size for s in slim["b2.c2_r"]] == [5]


def test_pruned_config_round_trips_through_a_checkpoint(tmp_path):
    torch.manual_seed(1)
    model = build_model(TINY_SLIM).eval()
    removal = random_removal(model, ["inner", "feature"], count=1)
    removal["b2.esa"] = [[0], [3]]  # the ESA width of block 2 only: per-block ESA widths
    pruned = prune_model(model, removal).eval()
    config = config_of(pruned)
    assert config["esa_channels"] == [4, 3] and config["feature_channels"] == 7
    assert validate_config(config) == config
    path = save_checkpoint(pruned, tmp_path / "pruned.pth")
    again, loaded_config = load_checkpoint(path)
    assert loaded_config == config
    from slimrlfn.arch.checkpoints import infer_config

    assert infer_config(pruned.state_dict()) == config  # also without the JSON beside it
    x = torch.rand(1, 3, 16, 16) * 255
    with torch.no_grad():
        assert torch.equal(pruned(x), again(x))


def test_uniform_esa_list_is_stored_as_one_width():
    assert validate_config({**TINY_SLIM, "esa_channels": [4, 4]})["esa_channels"] == 4
    with pytest.raises(ValueError, match="esa_channels"):
        validate_config({**TINY_SLIM, "esa_channels": [4, 4, 4]})
    assert config_with_widths(TINY_SLIM, {"b1.esa": 3, "b2.c1_r": 2})["esa_channels"] == [3, 4]


def test_inner_pruned_model_loads_into_the_official_layout_strictly():
    torch.manual_seed(2)
    model = build_model({"arch": "slimrlfn"}).eval()  # the official SlimRLFN architecture
    groups = ChannelGroups(model)
    removal = {u: [lowest(s, 2) for s in scores] for u, scores in channel_scores(groups, "l1").items()
               if u in ("b1.c1_r", "b3.c2_r", "b5.c1_r")}
    pruned = prune_model(model, removal).eval()
    config = config_of(pruned)
    official = SlimRLFN(prune_channels=config["prune_channels"]).eval()  # the official constructor
    official.load_state_dict(pruned.state_dict(), strict=True)
    assert list(official.state_dict()) == list(pruned.state_dict())
    x = torch.rand(1, 3, 16, 16) * 255
    with torch.no_grad():
        assert torch.equal(official(x), pruned(x))
