"""What a pruning step is measured by: PSNR on a validation set, params, FLOPs, latency and the NTIRE score.

- PSNR as NTIRE's ``test_demo.py`` computes it (SR clamped and rounded to uint8, RGB, border = scale,
  :func:`slimrlfn.metrics.psnr`), mean over the images.
- Params and FLOPs as :mod:`slimrlfn.profile` counts them (fvcore on 1x3x256x256); they depend on the
  architecture only, so they are cached by config.
- Latency: the median of ``runs`` timed forwards of one random (1, 3, S, S) input, after ``warmup``
  untimed-for-the-median ones (every sample is kept), with the device synchronised
  (:func:`slimrlfn.timing.make_timer`). The RLFN baseline is timed in the same loop, alternating
  with the model, so that load changes on a shared machine hit both alike; the NTIRE score uses
  that paired baseline.
- NTIRE 2024 ESR score, relative to RLFN (lower is better; RLFN itself scores e^2 = 7.389)::

      score = 0.7 * exp(2 * runtime / runtime_RLFN) + 0.15 * exp(2 * FLOPs / FLOPs_RLFN)
              + 0.15 * exp(2 * params / params_RLFN)

  The weights (0.7 runtime, 0.15 FLOPs, 0.15 params) and the exponential of twice the ratio to
  RLFN are the ones this workbook was given for the challenge's main track; the report
  (Ren et al., "The Ninth NTIRE 2024 Efficient Super-Resolution Challenge Report", CVPRW 2024)
  describes the main track as a weighted sum of the sub-track scores with RLFN as the baseline.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

from . import metrics
from .devices import resolve_device
from .models import build_model, config_of, default_config, validate_config
from .profile import count_parameters, fvcore_flops
from .pruning import unit_widths

__all__ = [
    "NTIRE_WEIGHTS",
    "architecture_counts",
    "measure_model",
    "ntire_score",
    "paired_latency",
    "reference_records",
    "validate_psnr",
]

#: (runtime, FLOPs, params) weights of the NTIRE 2024 ESR main-track score.
NTIRE_WEIGHTS = (0.7, 0.15, 0.15)

PathLike = Union[str, Path]
_COUNTS_CACHE: Dict[str, Dict[str, float]] = {}


def ntire_score(runtime_ms: float, flops_g: float, params_m: float,
                runtime_rlfn_ms: float, flops_rlfn_g: float, params_rlfn_m: float) -> float:
    """The NTIRE 2024 ESR main-track score relative to RLFN (see the module docstring); lower is better."""
    w_time, w_flops, w_params = NTIRE_WEIGHTS
    return (w_time * math.exp(2.0 * runtime_ms / runtime_rlfn_ms)
            + w_flops * math.exp(2.0 * flops_g / flops_rlfn_g)
            + w_params * math.exp(2.0 * params_m / params_rlfn_m))


def architecture_counts(config: Dict[str, Any]) -> Dict[str, float]:
    """``{"params_m", "flops_g", "params", "flops"}`` of the architecture ``config`` (fvcore, 1x3x256x256); cached."""
    config = validate_config(config)
    key = json.dumps(config, sort_keys=True)
    if key not in _COUNTS_CACHE:
        model = build_model(config).eval()
        params, flops = count_parameters(model), fvcore_flops(model)
        _COUNTS_CACHE[key] = {"params": params, "flops": flops, "params_m": params / 1e6, "flops_g": flops / 1e9}
    return dict(_COUNTS_CACHE[key])


@torch.no_grad()
def validate_psnr(model: nn.Module, images: Sequence[Any], device: torch.device, scale: int = 4) -> Dict[str, Any]:
    """Mean PSNR (dB, RGB, border = ``scale``, SR clamped and rounded to uint8) over ``images``.

    ``images`` are :class:`slimrlfn.train_data.ValidationImage` (RGB uint8 LR and mod-cropped HR).
    Returns ``{"psnr": mean, "psnr_per_image": {name: dB}}``; the model is put in eval mode.
    """
    from .evaluate import tensor_to_uint8, uint8_to_tensor

    was_training = model.training
    model.eval()
    values = {}
    for image in images:
        sr = tensor_to_uint8(model(uint8_to_tensor(image.lr, device)))
        values[image.name] = metrics.psnr(sr, image.hr, border=scale)
    model.train(was_training)
    return {"psnr": float(np.mean(list(values.values()))) if values else float("nan"), "psnr_per_image": values}


@torch.no_grad()
def paired_latency(
    model: nn.Module,
    baseline: Optional[nn.Module],
    device: torch.device,
    size: int = 128,
    runs: int = 5,
    warmup: int = 1,
    seed: int = 0,
) -> Dict[str, Any]:
    """Forward latency (ms) of ``model`` and, alternating with it, of ``baseline`` on one (1, 3, size, size) input.

    Returns the medians over the ``runs`` timed samples after ``warmup`` (``latency_ms``,
    ``baseline_latency_ms``), their minima (``latency_min_ms``, ``baseline_min_ms``: other load
    only ever adds time, so the minimum is the steadier figure on a shared machine), the IQR, every
    sample (``latency_samples_ms``, ``baseline_samples_ms``, warm-up first), the timer kind, thread
    count and input shape.
    """
    from .timing import make_timer

    if runs < 1 or warmup < 0:
        raise ValueError(f"need runs >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    timer = make_timer(device)
    generator = torch.Generator().manual_seed(seed)
    in_channels = model.conv_1.in_channels
    x = (torch.rand(1, in_channels, size, size, generator=generator) * 255.0).to(device)
    models = [("model", model.to(device).eval())]
    if baseline is not None:
        models.append(("baseline", baseline.to(device).eval()))
    samples: Dict[str, List[float]] = {name: [] for name, _ in models}
    for i in range(warmup + runs):
        order = models if i % 2 == 0 else models[::-1]
        for name, net in order:
            _, ms, _ = timer(net, x)
            samples[name].append(float(ms))
    result: Dict[str, Any] = {
        "latency_ms": float(np.median(samples["model"][warmup:])),
        "latency_samples_ms": samples["model"],
        "latency_iqr_ms": float(np.subtract(*np.percentile(samples["model"][warmup:], [75, 25]))),
        "latency_min_ms": float(np.min(samples["model"][warmup:])),
        "warmup": warmup, "runs": runs, "input_shape": [1, in_channels, size, size],
        "timer": timer.kind, "threads": torch.get_num_threads(), "device": str(device),
    }
    if baseline is not None:
        result["baseline_latency_ms"] = float(np.median(samples["baseline"][warmup:]))
        result["baseline_min_ms"] = float(np.min(samples["baseline"][warmup:]))
        result["baseline_samples_ms"] = samples["baseline"]
    return result


def measure_model(
    model: nn.Module,
    val_images: Sequence[Any],
    device: torch.device,
    latency_size: int = 128,
    latency_runs: int = 5,
    latency_warmup: int = 1,
    seed: int = 0,
) -> Dict[str, Any]:
    """PSNR, params, FLOPs, latency (paired with RLFN) and NTIRE score of ``model`` on this device."""
    config = config_of(model)
    scale = config["upscale"]
    counts = architecture_counts(config)
    rlfn_config = default_config("rlfn")
    rlfn_counts = architecture_counts(rlfn_config)
    model = model.to(device).eval()
    psnr = validate_psnr(model, val_images, device, scale)
    torch.manual_seed(seed)
    rlfn = build_model(rlfn_config)  # timing depends on the architecture only
    latency = paired_latency(model, rlfn, device, latency_size, latency_runs, latency_warmup, seed)
    score = ntire_score(latency["latency_ms"], counts["flops_g"], counts["params_m"],
                        latency["baseline_latency_ms"], rlfn_counts["flops_g"], rlfn_counts["params_m"])
    return {"config": config, "widths": unit_widths(config), "params_m": counts["params_m"],
            "flops_g": counts["flops_g"], "params": counts["params"], "flops": counts["flops"],
            "psnr": psnr["psnr"], "psnr_per_image": psnr["psnr_per_image"],
            "latency_ms": latency["latency_ms"], "latency_iqr_ms": latency["latency_iqr_ms"],
            "rlfn_latency_ms": latency["baseline_latency_ms"],
            "latency_ratio": latency["latency_ms"] / latency["baseline_latency_ms"], "latency": latency,
            "ntire_score": score}


def reference_records(
    names: Sequence[str],
    val_dir: PathLike,
    val_split: str = "valid",
    val_max_images: Optional[int] = None,
    device: Union[str, torch.device] = "auto",
    latency_size: int = 128,
    latency_runs: int = 5,
    latency_warmup: int = 1,
) -> Dict[str, Dict[str, Any]]:
    """:func:`measure_model` of official zoo models (e.g. ``slimrlfn``, ``slimrlfn_prune``), keyed by label."""
    from .train_data import load_validation
    from .zoo import load_zoo_model

    torch_device = resolve_device(device)
    images = load_validation(val_dir, val_split, 4, val_max_images)
    rows = {}
    for name in names:
        model, entry = load_zoo_model(name)
        row = measure_model(model, images, torch_device, latency_size, latency_runs, latency_warmup)
        rows[entry.label] = {"name": name, "label": entry.label, **row}
    return rows
