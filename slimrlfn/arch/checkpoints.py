"""Checkpoints as architecture config (JSON) + ``state_dict``, never pickled modules.

A derived model (pruned, fine-tuned) is saved as ``NAME.pth`` (a plain ``state_dict``) with
``NAME.json`` beside it (the config of :mod:`slimrlfn.arch.config`). Files are read by the one weights
reader, :func:`slimrlfn.arch.weights.read_weights` (``weights_only=True``). A bare official-layout ``state_dict`` without a config is
recognised from its key names and tensor shapes (:func:`infer_config`).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn

from slimrlfn.arch.config import build_model, config_of, validate_config
from slimrlfn.arch.weights import read_weights
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_bytes, atomic_write_json

__all__ = [
    "config_path_for",
    "infer_config",
    "load_checkpoint",
    "load_state_dict_checked",
    "save_checkpoint",
    "weights_digest",
]


def config_path_for(checkpoint: PathLike) -> Path:
    """The config file that belongs to a checkpoint: same folder and stem, suffix ``.json``."""
    return Path(checkpoint).with_suffix(".json")


def _shape(state_dict: Mapping[str, torch.Tensor], key: str) -> Tuple[int, ...]:
    return tuple(state_dict[key].shape)


def infer_config(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, Any]:
    """Read an architecture config off an official-layout ``state_dict`` (keys and shapes).

    Recognises RLFN (``block_1..``, ``upsampler.0``) and SlimRLFN (``block_list.0..``,
    ``upsampler.upsample_conv``); per-block ESA widths (after pruning) come back as a list. Raises
    ValueError when the layout is neither.
    """
    keys = set(state_dict)
    if "upsampler.0.weight" in keys:
        arch, pattern = "rlfn", re.compile(r"^block_(\d+)\.c1_r\.weight$")
        block_prefix, up_key, base = "block_{}", "upsampler.0.weight", 1
    elif "upsampler.upsample_conv.weight" in keys:
        arch, pattern = "slimrlfn", re.compile(r"^block_list\.(\d+)\.c1_r\.weight$")
        block_prefix, up_key, base = "block_list.{}", "upsampler.upsample_conv.weight", 0
    else:
        raise ValueError("not an RLFN or SlimRLFN state_dict (no 'upsampler.0.weight' nor "
                         "'upsampler.upsample_conv.weight' key)")
    if "conv_1.weight" not in keys:
        raise ValueError("not an RLFN or SlimRLFN state_dict (no 'conv_1.weight' key)")
    indices = sorted(int(m.group(1)) for k in keys if (m := pattern.match(k)))
    num_blocks = len(indices)
    prune_channels: List[int] = []
    esa_channels: List[int] = []
    for i in range(base, base + num_blocks):
        prefix = block_prefix.format(i)
        prune_channels.append(_shape(state_dict, f"{prefix}.c1_r.weight")[0])
        prune_channels.append(_shape(state_dict, f"{prefix}.c2_r.weight")[0])
        esa_channels.append(_shape(state_dict, f"{prefix}.esa.conv1.weight")[0])
    features, in_channels = _shape(state_dict, "conv_1.weight")[:2]
    up_out = _shape(state_dict, up_key)[0]
    out_channels = in_channels
    scale = int(round((up_out / out_channels) ** 0.5))
    return validate_config({
        "arch": arch, "in_channels": in_channels, "out_channels": out_channels,
        "feature_channels": features, "num_blocks": num_blocks, "prune_channels": prune_channels,
        "esa_channels": esa_channels or 16, "upscale": scale,
    })


def load_state_dict_checked(model: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    """``model.load_state_dict(state_dict, strict=True)``, with one clear line on a mismatch.

    The line lists missing and unexpected keys and shape mismatches (first few of each) and, when
    the shapes describe a known architecture, the ``prune_channels`` read off them.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    mismatched = [f"{k} {tuple(state_dict[k].shape)} vs {tuple(own[k].shape)}"
                  for k in own if k in state_dict and state_dict[k].shape != own[k].shape]
    if missing or unexpected or mismatched:
        parts = []
        for label, items in (("missing keys", missing), ("unexpected keys", unexpected),
                             ("shape mismatches (checkpoint vs model)", mismatched)):
            if items:
                more = f" (+{len(items) - 4} more)" if len(items) > 4 else ""
                parts.append(f"{label}: {', '.join(items[:4])}{more}")
        try:
            found = infer_config(state_dict)
            hint = (f"; its shapes say arch={found['arch']} feature_channels={found['feature_channels']} "
                    f"num_blocks={found['num_blocks']} prune_channels={found['prune_channels']}")
        except (ValueError, KeyError):
            hint = ""
        raise UserError(f"checkpoint {source} does not fit the architecture: {'; '.join(parts)}{hint}")
    model.load_state_dict(state_dict, strict=True)


def save_checkpoint(model: nn.Module, path: PathLike, extra: Optional[Dict[str, Any]] = None) -> Path:
    """Save ``model`` as ``path`` (state_dict, suffix .pth) + its config beside it (.json); atomic.

    ``extra`` (JSON-serialisable) is stored under the config file's ``"meta"`` key.
    Returns the checkpoint path.
    """
    path = Path(path)
    if path.suffix != ".pth":
        raise UserError(f"checkpoint path {path}: expected a file name ending in .pth")
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    document: Dict[str, Any] = {"config": config_of(model)}
    if extra:
        document["meta"] = extra
    atomic_write_json(config_path_for(path), document)
    return path


def _read_config_file(path: Path) -> Dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"config {path}: not valid JSON ({exc})") from None
    config = document.get("config", document) if isinstance(document, dict) else document
    try:
        return validate_config(config)
    except ValueError as exc:
        raise UserError(f"config {path}: {exc}") from None


def load_checkpoint(path: PathLike, config: Optional[Union[PathLike, Dict[str, Any]]] = None) -> Tuple[nn.Module, Dict[str, Any]]:
    """Rebuild a model from a checkpoint; returns ``(model in eval mode on CPU, config)``.

    The config comes from ``config`` (a dict or a JSON file), else from the ``.json`` beside the
    checkpoint, else it is inferred from the official key layout.
    """
    path = Path(path)
    state_dict = read_weights(path)
    if isinstance(config, dict):
        try:
            resolved = validate_config(config)
        except ValueError as exc:
            raise UserError(f"config for {path}: {exc}") from None
    elif config is not None:
        resolved = _read_config_file(Path(config))
    elif config_path_for(path).is_file():
        resolved = _read_config_file(config_path_for(path))
    else:
        try:
            resolved = infer_config(state_dict)
        except ValueError as exc:
            raise UserError(f"checkpoint {path}: no config file {config_path_for(path).name} beside it, "
                            f"and {exc}") from None
    model = build_model(resolved)
    load_state_dict_checked(model, state_dict, str(path))
    return model.eval(), resolved


def weights_digest(model: nn.Module) -> str:
    """A hex SHA-256 of every parameter's and buffer's name and values, in ``state_dict`` order (the architecture is
    not in it: two models with equal state dicts have equal digests)."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()
