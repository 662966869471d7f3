"""slimrlfn.prune.anymodel: the units of any traced SR network, pixel shuffles regrouped by r^2, the trials that
leave a group alone (with why), the lowest-L1 removal, and the one-line refusal of a model nothing of which can go."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from slimrlfn.core.errors import UserError
from slimrlfn.metrics.counts import count_parameters
from slimrlfn.prune.anymodel import AnyModelGroups, prune_any
from slimrlfn.prune.criteria import channel_scores, lowest


class TwoShuffles(nn.Module):
    """x4 as two x2 pixel shuffles: the first one's 64 input channels are 16 after it (blocks of 4)."""

    def __init__(self):
        super().__init__()
        self.head = nn.Conv2d(3, 12, 3, padding=1)
        self.grouped = nn.Conv2d(12, 12, 3, padding=1, groups=4)
        self.up1 = nn.Conv2d(12, 64, 3, padding=1)
        self.mid = nn.Conv2d(16, 12, 3, padding=1)
        self.up2 = nn.Conv2d(12, 12, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x):
        x = torch.relu(self.head(x))
        x = x + self.grouped(x)
        x = torch.relu(self.mid(self.shuffle(self.up1(x))))
        return self.shuffle(self.up2(x))


class OnlyOutput(nn.Module):
    def __init__(self):
        super().__init__()
        self.tail = nn.Conv2d(3, 48, 3, padding=1)
        self.shuffle = nn.PixelShuffle(4)

    def forward(self, x):
        return self.shuffle(self.tail(x))


@pytest.fixture
def two_shuffles():
    torch.manual_seed(0)
    return TwoShuffles().eval()


def test_units_blocks_and_what_is_left_alone(two_shuffles):
    groups = AnyModelGroups(two_shuffles, 1.0)
    assert {n: (u.width, u.block) for n, u in groups.units.items()} == {"up1": (64, 4), "mid": (12, 1)}
    assert "reach the model's output" in groups.left_alone["up2"] and "pixel shuffle of 4" in groups.left_alone["up2"]
    assert "groups=4" in groups.left_alone["head"] and "grouped" not in groups.units  # one group with head


def test_a_block_through_a_shuffle_goes_whole(two_shuffles):
    pruned, removal, _ = prune_any(two_shuffles, 0.25, 1.0)
    assert len(removal["up1"]) == 16 and len(removal["mid"]) == 3
    assert all(sum(1 for i in removal["up1"] if i // 4 == b) in (0, 4) for b in range(16))  # whole blocks
    assert (pruned.up1.out_channels, pruned.mid.in_channels, pruned.mid.out_channels) == (48, 12, 9)
    x = torch.rand(1, 3, 20, 24)
    with torch.no_grad():
        assert pruned(x).shape == (1, 3, 80, 96)
    assert count_parameters(pruned) < count_parameters(two_shuffles)
    assert two_shuffles.up1.out_channels == 64  # the model itself is untouched


def test_removing_the_lowest_l1_channels_of_a_unit(two_shuffles):
    with torch.no_grad():
        two_shuffles.mid.weight[5] *= 1e-3  # channel 5 of mid: the least important by far
        two_shuffles.up2.weight[:, 5] *= 1e-3
    groups = AnyModelGroups(two_shuffles, 1.0)
    assert lowest(channel_scores(groups, "l1")["mid"][0], 1) == [5]
    _, removal, _ = prune_any(two_shuffles, 0.1, 1.0)
    assert removal["mid"] == [5]
    with pytest.raises(ValueError, match="expected a multiple of 4"):
        groups.prune({"up1": [0, 1]})
    with pytest.raises(ValueError, match="unknown unit 'up2'"):
        groups.prune({"up2": [0]})


def test_a_model_nothing_of_which_can_go_is_refused_in_one_line():
    with pytest.raises(UserError, match=r"OnlyOutput cannot be pruned: .*blocking: tail: its channels reach the "
                                        r"model's output .*pixel shuffle of 16") as info:
        prune_any(OnlyOutput().eval(), 0.1, 1.0)
    assert "\n" not in str(info.value)
    with pytest.raises(UserError, match="--fraction 1.5"):
        prune_any(OnlyOutput().eval(), 1.5, 1.0)


def test_multiple_of_keeps_hardware_friendly_widths(two_shuffles):
    pruned, removal, _ = prune_any(two_shuffles, 0.1, 1.0, multiple_of=8)
    assert pruned.mid.out_channels == 8 and pruned.up1.out_channels == 56


def test_span_of_the_2024_repository(esr_repo):
    from slimrlfn.arch.ref import resolve_model

    spec = resolve_model(challenge_repo=esr_repo, model_id=38)
    groups = AnyModelGroups(spec.model, spec.data_range)
    assert len(groups.units) == 15 and all(u.width == 28 for u in groups.units.values())
    assert groups.left_alone == {"upsampler.0": "its channels reach the model's output (shape [1, 2, 128, 128] instead "
                                                "of [1, 3, 128, 128], through a pixel shuffle of 16 channels per output channel)"}
    pruned, removal, _ = prune_any(spec.model, 0.1, spec.data_range)
    assert sum(len(v) for v in removal.values()) == 30 and count_parameters(pruned) == 130828
