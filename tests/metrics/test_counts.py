import pytest
import torch

from slimrlfn.arch.config import build_model
from slimrlfn.metrics.counts import (
    activations_and_convs,
    count_parameters,
    fvcore_flops,
    fvcore_flops_by_operator,
    profile_model,
    ptflops_macs,
)

OFFICIAL = {
    # config: (params, fvcore FLOPs, activations, convs), from the NTIRE 2024 factsheets and model_summary
    "rlfn": ({"arch": "rlfn"}, 317218, 19_674_859_520, 80_045_184, 39),
    "slimrlfn": ({"arch": "slimrlfn"}, 207774, 11_991_174_144, 74_061_504, 51),
    "slimrlfn_prune": ({"arch": "slimrlfn", "prune_channels": [28] * 10 + [30, 30]}, 197134, 11_295_181_824, 72_750_784, 51),
}


@pytest.mark.parametrize("name", list(OFFICIAL))
def test_counts_match_the_challenge(name):
    config, params, flops, acts, convs = OFFICIAL[name]
    model = build_model(config).eval()
    assert count_parameters(model) == params
    assert fvcore_flops(model) == flops
    assert activations_and_convs(model) == (acts, convs)


def test_published_rounded_figures():
    rows = {n: profile_model(build_model(OFFICIAL[n][0])) for n in OFFICIAL}
    assert [round(rows[n]["flops"], 3) for n in OFFICIAL] == [19.675, 11.991, 11.295]
    assert [round(rows[n]["num_parameters"], 4) for n in OFFICIAL] == [0.3172, 0.2078, 0.1971]


def test_ptflops_aten_is_conv_macs_plus_one_bias_add_per_output():
    model = build_model(OFFICIAL["slimrlfn"][0]).eval()
    by_op = fvcore_flops_by_operator(model)
    acts, _ = activations_and_convs(model)
    assert ptflops_macs(model, backend="aten") == by_op["conv"] + acts
    assert ptflops_macs(model, backend="pytorch") > ptflops_macs(model, backend="aten")


def test_profile_leaves_training_mode_alone():
    model = build_model({"arch": "slimrlfn", "num_blocks": 1}).train()
    profile_model(model, (1, 3, 32, 32))
    assert model.training


class _Mixed(torch.nn.Module):
    """A conv, a transposed conv, a Conv1d and a Linear: the organisers hook only the two 2-D convolutions."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)  # 4 x 8 x 8 = 256 outputs
        self.up = torch.nn.ConvTranspose2d(4, 2, 2, stride=2)  # 2 x 16 x 16 = 512 outputs
        self.line = torch.nn.Conv1d(2, 2, 1)  # not counted by the organisers
        self.head = torch.nn.Linear(16, 16)  # not counted by the organisers

    def forward(self, x):
        y = self.up(self.conv(x))
        n, c, h, w = y.shape
        z = self.line(y.reshape(n, c, h * w)).reshape(n, c, h, w)
        return self.head(z)


def test_activations_and_convs_hook_only_conv2d_and_convtranspose2d_as_the_organisers_do():
    model = _Mixed().eval()
    assert activations_and_convs(model, (1, 3, 8, 8)) == (256 + 512, 2)


def test_pytorchs_flop_count_cross_checks_fvcore_and_names_the_family_that_differs():
    from slimrlfn.metrics.counts import flops_cross_check, fvcore_flops_by_operator, torch_flop_count

    model = build_model({"arch": "rlfn"}).eval()
    check = flops_cross_check(fvcore_flops_by_operator(model), torch_flop_count(model))
    assert not check["flagged"] and check["difference"] < 0.01  # RLFN: convolutions, and a small bilinear
    assert check["torch_flops_g"] == pytest.approx(19.658082304)
    assert [row["family"] for row in check["responsible"]] == ["upsample"]  # fvcore counts it, PyTorch does not
    made_up = flops_cross_check({"conv": 100, "matmul": 0}, {"flops": 150, "by_family": {"conv": 100, "matmul": 50}})
    assert made_up["flagged"] and made_up["responsible"] == [{"family": "matmul", "fvcore_g": 0.0, "torch_g": 5e-08}]
