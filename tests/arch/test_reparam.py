import copy

import pytest
import torch

from slimrlfn.arch.config import build_model, default_config, validate_config
from slimrlfn.arch.reparam import (
    RepConv3x3,
    RepSlimRLFN,
    branch_table,
    build_train_model,
    deploy_config_of,
    export_deploy,
    from_deploy,
    is_reparameterized,
    reparameterize,
    validate_rep_options,
)
from slimrlfn.arch.reparam_checks import equivalence_check, forward_time_comparison
from slimrlfn.arch.rlfn import SlimRLFN
from slimrlfn.arch.zoo import load_zoo_model

TINY = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 7, 8, 5], "esa_channels": 4}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread (OpenMP threads spin-waiting on a shared CPU cost more than they give)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


OPTIONS = [
    {},
    {"use_edge": True},
    {"use_1x1": False, "use_identity": False, "expand_ratio": 0.0},
    {"expand_ratio": 1.5, "use_edge": True, "use_identity": False},
]


def perturbed(model, seed=0, std=0.05):
    """Every parameter random (so that no branch sits at zero), in place."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=param.dtype) * std)
    return model


def relative(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


@pytest.mark.parametrize("rep", OPTIONS)
def test_fused_equals_train_time_float64(rep):
    model = perturbed(build_train_model(TINY, rep).double())
    x = torch.rand(2, 3, 17, 21, dtype=torch.float64) * 255
    expected = model(x)
    deploy = export_deploy(model)
    assert isinstance(deploy, SlimRLFN) and not is_reparameterized(model)  # export leaves the model alone
    assert relative(deploy(x), expected) < 1e-9
    assert reparameterize(model) is model and is_reparameterized(model)
    assert torch.allclose(model(x), expected, rtol=0, atol=1e-9 * expected.abs().max().item())


@pytest.mark.parametrize("rep", OPTIONS[:2])
def test_fused_equals_train_time_float32(rep):
    model = perturbed(build_train_model(TINY, rep))
    x = torch.rand(1, 3, 20, 16) * 255
    expected = model(x)
    assert relative(export_deploy(model)(x), expected) < 1e-4


def test_borders_are_exact_with_nonzero_biases():
    conv = RepConv3x3(4, 4, use_edge=True).double()
    with torch.no_grad():
        for branch in [conv.expand_squeeze.expand, *(b.conv for b in conv.edges.values())]:
            branch.bias.fill_(3.0)  # a zero-padded 1x1 output would differ from the fused conv at the border
        for branch in conv.edges.values():
            branch.scale.fill_(0.5)
    x = torch.randn(1, 4, 9, 9, dtype=torch.float64)
    assert torch.allclose(conv.to_conv()(x), conv(x), rtol=0, atol=1e-10)


def test_reparameterize_is_idempotent_and_in_place():
    model = perturbed(build_train_model(TINY, {"use_edge": True}).double())
    x = torch.rand(1, 3, 16, 16, dtype=torch.float64) * 255
    reparameterize(model)
    once = {k: v.clone() for k, v in model.state_dict().items()}
    out = model(x)
    reparameterize(model)
    assert once.keys() == model.state_dict().keys()
    assert all(torch.equal(once[k], v) for k, v in model.state_dict().items())
    assert torch.equal(model(x), out)


@pytest.mark.parametrize("prune_channels", [None, [28] * 10 + [30, 30], [30, 12, 7, 30, 30, 30, 3, 9, 30, 30, 1, 30]])
def test_fused_state_dict_loads_strict_into_deploy_slimrlfn(prune_channels):
    config = default_config("slimrlfn")
    if prune_channels is not None:
        config["prune_channels"] = prune_channels
    model = build_train_model(config, {"use_edge": True})
    assert deploy_config_of(model) == validate_config(config)
    deploy = build_model(config)
    reparameterize(model)
    fused = model.state_dict()
    assert list(fused) == list(deploy.state_dict())
    assert all(fused[k].shape == v.shape for k, v in deploy.state_dict().items())
    deploy.load_state_dict(fused, strict=True)


def test_per_block_esa_widths_when_the_models_take_them():
    config = {**TINY, "esa_channels": [4, 3]}
    try:
        deploy = build_model(config)
    except (ValueError, TypeError):
        pytest.skip("this slimrlfn.arch.config takes one ESA width for every block")
    model = build_train_model(config)
    assert deploy_config_of(model)["esa_channels"] == [4, 3]
    deploy.load_state_dict(reparameterize(model).state_dict(), strict=True)


def test_non_block_keys_are_the_official_ones():
    train_keys = set(build_train_model(default_config("slimrlfn")).state_dict())
    deploy_keys = set(SlimRLFN().state_dict())
    block_convs = {k for k in deploy_keys if any(f".{c}." in k for c in ("c1_r", "c2_r", "c3_r"))}
    assert deploy_keys - block_convs <= train_keys
    assert {k for k in train_keys if ".c1_r." in k} >= {"block_list.0.c1_r.conv3x3.weight", "block_list.0.c1_r.conv1x1.bias"}


@pytest.mark.parametrize("rep", OPTIONS)
def test_from_deploy_has_the_deploy_output(rep):
    deploy = perturbed(build_model(TINY).double(), seed=3)
    model = from_deploy(deploy, rep)
    assert isinstance(model, RepSlimRLFN)
    x = torch.rand(1, 3, 18, 15, dtype=torch.float64) * 255
    assert relative(model(x), deploy(x)) < 1e-9
    round_trip = export_deploy(model)
    assert all(torch.allclose(v, round_trip.state_dict()[k], atol=1e-12) for k, v in deploy.state_dict().items())


def test_from_deploy_model_trains_every_branch_and_still_fuses():
    model = from_deploy(perturbed(build_model(TINY).double(), seed=4), {"use_edge": True})
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64) * 255
    for _ in range(2):  # the second step moves the first stage of the sequential branches too
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()
    block = model.block_list[0].c1_r
    assert block.conv1x1.weight.abs().sum() > 0 and block.expand_squeeze.squeeze.weight.abs().sum() > 0
    assert all(branch.scale.abs().sum() > 0 for branch in block.edges.values())
    assert relative(export_deploy(model)(x), model(x)) < 1e-9


def test_online_fusion_gives_the_same_outputs_and_gradients():
    branches = perturbed(build_train_model(TINY, {"use_edge": True}).double())
    online = copy.deepcopy(branches)
    for module in online.modules():
        if isinstance(module, RepConv3x3):
            module.online_fusion = True
    x = torch.rand(1, 3, 16, 16, dtype=torch.float64) * 255
    out_b, out_o = branches(x), online(x)
    assert relative(out_o, out_b) < 1e-9
    out_b.square().mean().backward()
    out_o.square().mean().backward()
    for (name, p_b), p_o in zip(branches.named_parameters(), online.parameters()):
        assert torch.allclose(p_o.grad, p_b.grad, rtol=1e-7, atol=1e-12), name


def test_official_slimrlfn_round_trip(official_zoo):
    official, _ = load_zoo_model("slimrlfn_prune")
    model = from_deploy(official, {"use_edge": True})
    x = torch.rand(1, 3, 24, 24) * 255
    with torch.no_grad():
        assert relative(model(x), official(x)) < 1e-4
        deploy = export_deploy(model)
    assert list(deploy.state_dict()) == list(official.state_dict())
    assert all(torch.allclose(v, deploy.state_dict()[k], atol=1e-5) for k, v in official.state_dict().items())


def test_branch_table_and_counts():
    model = build_train_model(default_config("slimrlfn"), {"use_edge": True})
    rows = branch_table(model)
    assert len(rows) == 18
    first = rows[0]
    assert first["branches"] == 7 and first["branch_names"].startswith("3x3+1x1+identity+1x1-3x3")
    assert first["deploy_params"] == 30 * 30 * 9 + 30
    assert first["train_params"] == sum(v for k, v in first.items() if k.startswith("params_"))
    no_identity = branch_table(build_train_model({**TINY, "prune_channels": [6, 8, 8, 8]}))[0]
    assert "identity" not in no_identity["branch_names"]  # 8 -> 6 channels: shapes do not allow it


def test_equivalence_check_and_timing_helpers():
    model = build_train_model(TINY)
    report = equivalence_check(model, (1, 3, 16, 16))
    assert report["float64"]["relative"] < 1e-9 and report["float32"]["relative"] < 1e-4
    torch.set_num_threads(2)
    timing = forward_time_comparison(model, (1, 3, 16, 16), runs=2, threads=1)
    assert timing["cpu_threads"] == 1 and torch.get_num_threads() == 2  # restored
    assert set(timing["variants"]) == {"train-time (branches)", "train-time (online fusion)", "fused (deploy)"}
    assert all(len(v["times_ms"]) == 2 and v["median_ms"] > 0 for v in timing["variants"].values())
    assert not is_reparameterized(model)


def test_bad_options():
    with pytest.raises(ValueError, match="unknown reparameterization options"):
        validate_rep_options({"use_3x3": True})
    with pytest.raises(ValueError, match="expand_ratio"):
        validate_rep_options({"expand_ratio": -1})
    with pytest.raises(ValueError, match="arch 'slimrlfn'"):
        build_train_model({"arch": "rlfn"})
    with pytest.raises(TypeError, match="deploy"):
        from_deploy(build_train_model(TINY))
