"""Architectures read as data: per-layer output widths of an RLFN / SlimRLFN config.

Follows the layer order of :mod:`slimrlfn.arch.config` (the NTIRE 2024 ESR model files
``team00_RLFN.py`` and ``team21_SlimRLFN.py``): ``conv_1``, then per block ``c1_r``, ``c2_r``,
``c3_r``, ``c5`` (the ESA branch keeps ``esa_channels`` and is left out), then ``conv_2`` and the
upsampler conv (``out_channels * upscale**2`` outputs, before the pixel shuffle). Only ``c1_r`` and
``c2_r`` are pruned (``prune_channels``); every other width is ``feature_channels`` because of the
residual additions. Reads configs only, never builds a model.
"""
from __future__ import annotations

from typing import Any, Dict, List, NamedTuple

from slimrlfn.arch.config import validate_config

__all__ = ["Layer", "layer_widths", "PRUNABLE_KINDS"]

#: Layer kinds whose width ``prune_channels`` sets.
PRUNABLE_KINDS = ("c1_r", "c2_r")


class Layer(NamedTuple):
    """One conv in forward order: ``name`` (e.g. ``b3.c1_r``), ``kind`` (e.g. ``c1_r``), output channels."""

    name: str
    kind: str
    width: int


def layer_widths(config: Dict[str, Any]) -> List[Layer]:
    """The main-path convs of ``config`` in forward order with their output channels.

    ``config`` is a model config (see :func:`slimrlfn.arch.config.default_config`); missing keys take the
    architecture's defaults. Blocks are numbered from 1 (``b1`` .. ``bN``) for both architectures.
    Raises ValueError for an invalid config.
    """
    config = validate_config(config)
    features = config["feature_channels"]
    prune = config["prune_channels"]
    layers = [Layer("conv_1", "conv_1", features)]
    for i in range(config["num_blocks"]):
        block = f"b{i + 1}"
        layers += [
            Layer(f"{block}.c1_r", "c1_r", prune[2 * i]),
            Layer(f"{block}.c2_r", "c2_r", prune[2 * i + 1]),
            Layer(f"{block}.c3_r", "c3_r", features),
            Layer(f"{block}.c5", "c5", features),
        ]
    layers.append(Layer("conv_2", "conv_2", features))
    layers.append(Layer("upsampler", "upsampler", config["out_channels"] * config["upscale"] ** 2))
    return layers
