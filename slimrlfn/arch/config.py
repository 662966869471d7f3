"""Architectures as data: the JSON config of an RLFN / SlimRLFN, checked, built and read back.

A config is a small JSON object, e.g. ``{"arch": "slimrlfn", "prune_channels": [28] * 10 + [30, 30]}``
(missing keys take the architecture's defaults, :func:`default_config`). :func:`build_model`
rebuilds a network from it (random weights); :func:`config_of` reads the config back off a built
model, also a train-time one (:mod:`slimrlfn.arch.reparam`) or one changed by pruning surgery.
A list of ESA widths whose entries are all equal is stored as the single integer, so official
configs keep their form.
"""
from __future__ import annotations

from typing import Any, Dict, List

import torch.nn as nn

from slimrlfn.arch.rlfn import RLFN, SlimRLFN

__all__ = ["ARCHITECTURES", "CONFIG_KEYS", "build_model", "config_of", "default_config", "unwrap", "validate_config"]

ARCHITECTURES = {"rlfn": RLFN, "slimrlfn": SlimRLFN}

#: Every key a config may have.
CONFIG_KEYS = ("arch", "in_channels", "out_channels", "feature_channels", "num_blocks",
               "prune_channels", "esa_channels", "upscale")
#: The unpruned official architectures (NTIRE 2024 ESR team 00 RLFN_Prune and team 21 SlimRLFN).
_DEFAULTS: Dict[str, Dict[str, Any]] = {
    "rlfn": {"arch": "rlfn", "in_channels": 3, "out_channels": 3, "feature_channels": 46,
             "num_blocks": 4, "prune_channels": [48] * 8, "esa_channels": 16, "upscale": 4},
    "slimrlfn": {"arch": "slimrlfn", "in_channels": 3, "out_channels": 3, "feature_channels": 30,
                 "num_blocks": 6, "prune_channels": [30] * 12, "esa_channels": 16, "upscale": 4},
}


#: The widest layer a config may ask for (channels): far above any efficient SR network, far below a width whose
#: weights would not fit in memory (a typo such as 1e9 would ask for a terabyte).
MAX_WIDTH = 4096
#: Other keys' upper bounds (blocks; the scale factor); widths use MAX_WIDTH.
_LIMITS = {"num_blocks": 256, "upscale": 16, "in_channels": 64, "out_channels": 64}


def default_config(arch: str) -> Dict[str, Any]:
    """The config of the unpruned official architecture ``arch`` ('rlfn' or 'slimrlfn')."""
    if arch in _DEFAULTS:
        return {key: list(value) if isinstance(value, list) else value for key, value in _DEFAULTS[arch].items()}
    raise ValueError(f"unknown architecture {arch!r}; expected one of {sorted(ARCHITECTURES)}")


def validate_config(config: Dict[str, Any]) -> Dict[str, Any]:
    """Check a config and fill missing keys from the architecture's default; returns a new dict.

    Raises ValueError with one line naming the offending key.
    """
    if not isinstance(config, dict) or "arch" not in config:
        raise ValueError("a model config must be a JSON object with an 'arch' key ('rlfn' or 'slimrlfn')")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ValueError(f"unknown model config keys {unknown}; expected a subset of {list(CONFIG_KEYS)}")
    full = default_config(config["arch"])
    full.update(config)
    if "prune_channels" not in config:
        unpruned = 48 if full["arch"] == "rlfn" else full["feature_channels"]
        full["prune_channels"] = [unpruned] * (2 * full["num_blocks"])
    for key in ("in_channels", "out_channels", "feature_channels", "num_blocks", "upscale"):
        if not isinstance(full[key], int) or isinstance(full[key], bool) or full[key] < 1:
            raise ValueError(f"model config key {key!r} must be a positive integer, got {full[key]!r}")
        if full[key] > _LIMITS.get(key, MAX_WIDTH):
            raise ValueError(f"model config key {key!r} is {full[key]}; expected at most {_LIMITS.get(key, MAX_WIDTH)}")
    esa = full["esa_channels"]
    if isinstance(esa, (list, tuple)):
        if len(esa) != full["num_blocks"] or not all(isinstance(c, int) and 1 <= c <= MAX_WIDTH for c in esa):
            raise ValueError(f"model config key 'esa_channels' must be a positive integer or list "
                             f"num_blocks = {full['num_blocks']} positive integers, got {esa!r}")
        full["esa_channels"] = esa[0] if len(set(esa)) == 1 else list(esa)
    elif not isinstance(esa, int) or not 1 <= esa <= MAX_WIDTH:
        raise ValueError(f"model config key 'esa_channels' must be a positive integer (or one per block), got {esa!r}")
    channels = full["prune_channels"]
    if (not isinstance(channels, (list, tuple)) or len(channels) != 2 * full["num_blocks"]
            or not all(isinstance(c, int) and 1 <= c <= MAX_WIDTH for c in channels)):
        raise ValueError(f"model config key 'prune_channels' must list 2 * num_blocks = "
                         f"{2 * full['num_blocks']} integers in 1..{MAX_WIDTH}, got {channels!r}")
    full["prune_channels"] = list(channels)
    return full


def build_model(config: Dict[str, Any]) -> nn.Module:
    """Rebuild a network from its config (see :func:`default_config`); weights are random."""
    config = validate_config(config)
    kwargs = {k: v for k, v in config.items() if k != "arch"}
    return ARCHITECTURES[config["arch"]](**kwargs)


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside ``DistributedDataParallel`` (``model.module``), else ``model`` itself."""
    return model.module if isinstance(getattr(model, "module", None), nn.Module) else model


def config_of(model: nn.Module) -> Dict[str, Any]:
    """Read the config back off a built model (the widths as they are now, e.g. after surgery).

    Works on deploy and train-time models alike (their convs carry ``in_channels`` /
    ``out_channels``), also inside ``DistributedDataParallel``. TypeError for any other network.
    """
    model = unwrap(model)
    if isinstance(model, RLFN):
        arch = "rlfn"
        up_conv = model.upsampler[0]
    elif isinstance(model, SlimRLFN):
        arch = "slimrlfn"
        up_conv = model.upsampler.upsample_conv
    else:
        raise TypeError(f"not an RLFN or SlimRLFN model: {type(model).__name__}")
    blocks = model.blocks()
    scale = int(round((up_conv.out_channels / model.conv_1.in_channels) ** 0.5))
    prune_channels: List[int] = []
    for block in blocks:
        prune_channels += [block.c1_r.out_channels, block.c2_r.out_channels]
    esa = [block.esa.conv1.out_channels for block in blocks]
    return {
        "arch": arch,
        "in_channels": model.conv_1.in_channels,
        "out_channels": up_conv.out_channels // (scale * scale),
        "feature_channels": model.conv_1.out_channels,
        "num_blocks": len(blocks),
        "prune_channels": prune_channels,
        "esa_channels": esa[0] if len(set(esa)) == 1 else esa,
        "upscale": scale,
    }
