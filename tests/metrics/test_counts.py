import pytest

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
