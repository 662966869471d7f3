"""Notebook 01 (model definition): the official models re-saved as config + state_dict, checked, and its summary.

:func:`roundtrip_parity` loads every zoo model (SHA-256 checked, ``strict=True``, ``weights_only``),
saves it the workbook's way (:func:`slimrlfn.arch.checkpoints.save_checkpoint`: config JSON +
state_dict), loads it back and compares the two on one input: the largest output difference must
be 0 and the config the zoo's. :func:`summary` builds ``01_model_definition.json``, which the
factsheet reads (:mod:`slimrlfn.factsheet.data`): its keys are :data:`SUMMARY_KEYS`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

import torch
import torch.nn as nn

from slimrlfn.arch.checkpoints import load_checkpoint, save_checkpoint
from slimrlfn.arch.zoo import ZOO, load_zoo_model
from slimrlfn.core.files import PathLike

__all__ = ["SUMMARY_KEYS", "roundtrip_parity", "summary"]

#: The keys of ``01_model_definition.json``.
SUMMARY_KEYS = ("quick", "device", "configs", "counts", "parity", "figures")


@torch.no_grad()
def roundtrip_parity(out_dir: PathLike, x: torch.Tensor) -> Tuple[Dict[str, nn.Module], List[Dict[str, Any]]]:
    """Every zoo model, official and re-saved under ``out_dir``, run on ``x`` (1, 3, H, W) in [0, 255].

    Returns ``({label: official model on x's device}, rows)``; a row names the model, its official
    file and digest, the re-saved file, whether the reloaded config equals the zoo's and the largest
    absolute output difference (0 when the weights are bit-identical).
    """
    models, rows = {}, []
    for name, entry in ZOO.items():
        official, _ = load_zoo_model(name)
        saved = save_checkpoint(official, Path(out_dir) / f"{name}.pth", extra={"from": entry.file})
        reloaded, config = load_checkpoint(saved)
        official, reloaded = official.to(x.device), reloaded.to(x.device)
        difference = (official(x) - reloaded(x)).abs().max().item()
        models[entry.label] = official
        rows.append({"model": entry.label, "official file": entry.file, "sha256": entry.sha256[:16] + "...",
                     "saved as": saved.name, "config == zoo config": config == entry.config,
                     "max |output difference|": difference})
    return models, rows


def summary(quick: bool, device_info: Mapping[str, Any], configs: Mapping[str, Mapping[str, Any]],
            counts: Sequence[Mapping[str, Any]], parity: Sequence[Mapping[str, Any]],
            figures: Iterable[Any] = ()) -> Dict[str, Any]:
    """``01_model_definition.json``: mode, device, the configs and counts per model label, the parity rows, figures."""
    return {"quick": bool(quick), "device": dict(device_info), "configs": {k: dict(v) for k, v in configs.items()},
            "counts": [dict(row) for row in counts], "parity": [dict(row) for row in parity],
            "figures": [str(path) for path in figures]}
