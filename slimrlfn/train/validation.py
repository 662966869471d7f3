"""The one PSNR validation loop between optimisation steps (training, pruning and its fine-tuning).

PSNR as NTIRE's ``test_demo.py`` computes it: one whole-image forward, SR clamped to [0, 255] and
rounded to uint8 (:func:`slimrlfn.arch.contract.tensor_to_uint8`), RGB, border = scale
(:func:`slimrlfn.metrics.quality.psnr`), mean over the images. A train-time model is fused first
by the caller (:func:`slimrlfn.arch.reparam.export_deploy`).
"""
from __future__ import annotations

from typing import Any, Dict, Sequence

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.contract import tensor_to_uint8, uint8_to_tensor
from slimrlfn.data.validation import ValidationImage
from slimrlfn.metrics.quality import psnr

__all__ = ["validate_psnr"]


@torch.no_grad()
def validate_psnr(model: nn.Module, images: Sequence[ValidationImage], device: torch.device,
                  scale: int = 4, *, data_range: float) -> Dict[str, Any]:
    """Mean PSNR (dB, RGB, border = ``scale``) of ``model`` over ``images`` (RGB uint8 LR, mod-cropped HR).

    ``model`` takes and gives [0, ``data_range``] (converted as ``test_demo.py`` does).

    Returns ``{"psnr": mean (nan without images), "psnr_per_image": {name: dB}}``; the model is
    evaluated in eval mode and left in the mode it had.
    """
    was_training = model.training
    model.eval()
    values = {}
    for image in images:
        sr = tensor_to_uint8(model(uint8_to_tensor(image.lr, device, data_range)), data_range)
        values[image.name] = psnr(sr, image.hr, border=scale)
    model.train(was_training)
    return {"psnr": float(np.mean(list(values.values()))) if values else float("nan"), "psnr_per_image": values}
