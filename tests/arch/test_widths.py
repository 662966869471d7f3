"""slimrlfn.arch.widths: per-layer widths of a config."""
from __future__ import annotations

import pytest

from slimrlfn.arch.widths import layer_widths
from slimrlfn.arch.zoo import ZOO


def widths_by_name(config):
    return {layer.name: layer.width for layer in layer_widths(config)}


def test_layer_widths_slimrlfn_prune():
    widths = widths_by_name(ZOO["slimrlfn_prune"].config)
    assert widths["conv_1"] == 30
    for block in range(1, 6):
        assert widths[f"b{block}.c1_r"] == 28 and widths[f"b{block}.c2_r"] == 28
        assert widths[f"b{block}.c3_r"] == 30 and widths[f"b{block}.c5"] == 30
    assert widths["b6.c1_r"] == 30 and widths["b6.c2_r"] == 30
    assert widths["conv_2"] == 30
    assert widths["upsampler"] == 48  # 3 * 4**2 before the pixel shuffle


def test_layer_widths_order_and_counts():
    rlfn = layer_widths(ZOO["rlfn"].config)
    slim = layer_widths(ZOO["slimrlfn"].config)
    assert [layer.name for layer in rlfn[:6]] == ["conv_1", "b1.c1_r", "b1.c2_r", "b1.c3_r", "b1.c5", "b2.c1_r"]
    assert [layer.name for layer in rlfn[-2:]] == ["conv_2", "upsampler"]
    assert len(rlfn) == 1 + 4 * 4 + 2 and len(slim) == 1 + 6 * 4 + 2
    assert {layer.width for layer in rlfn if layer.kind in ("c1_r", "c2_r")} == {48}
    assert {layer.width for layer in rlfn if layer.kind in ("conv_1", "c3_r", "c5", "conv_2")} == {46}
    assert {layer.width for layer in slim if layer.kind != "upsampler"} == {30}


def test_layer_widths_fills_defaults_and_rejects_bad_configs():
    assert widths_by_name({"arch": "slimrlfn", "prune_channels": [7] * 12})["b3.c2_r"] == 7
    with pytest.raises(ValueError, match="prune_channels"):
        layer_widths({"arch": "slimrlfn", "prune_channels": [28] * 3})
    with pytest.raises(ValueError):
        layer_widths({"feature_channels": 30})
