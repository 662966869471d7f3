"""slimrlfn.prune.criteria: L1 / L2 / Taylor scores against hand computation, random seeded."""
from __future__ import annotations

import pytest
import torch

from slimrlfn.arch.config import build_model
from slimrlfn.prune.criteria import channel_scores, lowest
from slimrlfn.prune.groups import ChannelGroups


def handmade_model():
    """One block; c1_r channel 0: 36 weights of 0.1 (L1 3.6, L2^2 0.36); channel 1: one weight 1.5
    (L1 1.5, L2^2 2.25); channels 2 and 3: all 1.0."""
    model = build_model({"arch": "slimrlfn", "feature_channels": 4, "num_blocks": 1, "prune_channels": [4, 4],
                         "esa_channels": 2}).eval()
    with torch.no_grad():
        weight = model.block_list[0].c1_r.weight
        weight.fill_(1.0)
        weight[0].fill_(0.1)
        weight[1].zero_()
        weight[1, 0, 1, 1] = 1.5
    return model


def test_l1_and_l2_filter_norms_rank_as_computed_by_hand():
    groups = ChannelGroups(handmade_model())
    l1 = channel_scores(groups, "l1", reduction="first")["b1.c1_r"][0]
    l2 = channel_scores(groups, "l2", reduction="first")["b1.c1_r"][0]
    assert lowest(l1, 1) == [1] and lowest(l2, 1) == [0]
    assert float(l1[0] / l1[1]) == pytest.approx(3.6 / 1.5)
    assert float(l2[1] / l2[0]) == pytest.approx(2.25 / 0.36)  # TP's p=2 score is the sum of squares
    group_l1 = channel_scores(groups, "l1", reduction="mean")["b1.c1_r"][0]
    assert float(group_l1.mean()) == pytest.approx(1.0)  # normalised by the group's mean


def test_taylor_ranks_by_weight_times_gradient():
    model = handmade_model()
    groups = ChannelGroups(model)
    for param in model.parameters():
        param.grad = torch.ones_like(param)
    weight = model.block_list[0].c1_r.weight
    weight.grad[2].zero_()  # channel 2: large weights, no gradient -> least important to first order
    taylor = channel_scores(groups, "taylor", reduction="first")["b1.c1_r"][0]
    assert lowest(taylor, 1) == [2]
    assert lowest(channel_scores(groups, "l1", reduction="first")["b1.c1_r"][0], 1) == [1]


def test_taylor_without_gradients_is_refused_and_random_is_seeded():
    groups = ChannelGroups(handmade_model())
    with pytest.raises(ValueError, match="gradients"):
        channel_scores(groups, "taylor")
    a, b = channel_scores(groups, "random", seed=3), channel_scores(groups, "random", seed=3)
    c = channel_scores(groups, "random", seed=4)
    assert torch.equal(a["b1.c1_r"][0], b["b1.c1_r"][0])
    assert not torch.equal(a["b1.c1_r"][0], c["b1.c1_r"][0])
