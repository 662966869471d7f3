"""slimrlfn.arch.rlfn: x4 shapes, the official key names and counts, the ESA's minimum input."""
import pytest
import torch

from slimrlfn.arch.config import build_model, default_config
from slimrlfn.arch.rlfn import MIN_INPUT_SIZE, RLFN, SlimRLFN


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


def test_esa_needs_the_documented_minimum_size():
    model = build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}).eval()
    with torch.no_grad():
        model(torch.rand(1, 3, MIN_INPUT_SIZE, MIN_INPUT_SIZE))
        with pytest.raises(RuntimeError):
            model(torch.rand(1, 3, MIN_INPUT_SIZE - 1, MIN_INPUT_SIZE - 1))
