"""What a pruning step is measured by: PSNR on a validation set, params, FLOPs, latency and the NTIRE score.

- PSNR as NTIRE's ``test_demo.py`` computes it (SR clamped and rounded to uint8, RGB, border = scale),
  mean over the images: :func:`slimrlfn.train.validation.validate_psnr`.
- Params and FLOPs as :mod:`slimrlfn.metrics.counts` counts them (fvcore on 1x3x256x256); they depend on
  the architecture only, so they are cached by config (:func:`slimrlfn.metrics.counts.architecture_counts`).
- Latency: the median of ``runs`` timed forwards of one random (1, 3, S, S) input, after ``warmup``
  untimed-for-the-median ones (every sample is kept), with the device synchronised
  (:func:`slimrlfn.metrics.latency.make_timer`). The RLFN baseline is timed in the same loop, alternating
  with the model, so that load changes on a shared machine hit both alike; the NTIRE score uses
  that paired baseline.
- NTIRE 2024 ESR score, relative to RLFN (lower is better; RLFN itself scores e^2 = 7.389):
  :func:`slimrlfn.metrics.score.ntire_score`, with the paired RLFN latency.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.config import build_model, config_of, default_config
from slimrlfn.arch.zoo import load_zoo_model
from slimrlfn.core.devices import resolve_device
from slimrlfn.core.files import PathLike
from slimrlfn.data.validation import load_validation
from slimrlfn.metrics.counts import architecture_counts
from slimrlfn.metrics.latency import make_timer
from slimrlfn.metrics.score import ntire_score
from slimrlfn.prune.units import unit_widths
from slimrlfn.train.validation import validate_psnr

__all__ = [
    "measure_model",
    "paired_latency",
    "reference_records",
]




@torch.no_grad()
def paired_latency(
    model: nn.Module,
    baseline: Optional[nn.Module],
    device: torch.device,
    size: int = 128,
    runs: int = 5,
    warmup: int = 1,
    seed: int = 0,
    data_range: float = 255.0,
) -> Dict[str, Any]:
    """Forward latency (ms) of ``model`` and, alternating with it, of ``baseline`` on one (1, 3, size, size) input
    in [0, ``data_range``].

    Returns the medians over the ``runs`` timed samples after ``warmup`` (``latency_ms``,
    ``baseline_latency_ms``), their minima (``latency_min_ms``, ``baseline_min_ms``: other load
    only ever adds time, so the minimum is the steadier figure on a shared machine), the IQR, every
    sample (``latency_samples_ms``, ``baseline_samples_ms``, warm-up first), the timer kind, thread
    count and input shape.
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"need runs >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    timer = make_timer(device)
    generator = torch.Generator().manual_seed(seed)
    in_channels = getattr(getattr(model, "conv_1", None), "in_channels", 3)  # any SR model: RGB
    x = (torch.rand(1, in_channels, size, size, generator=generator) * data_range).to(device)
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
    torch_device = resolve_device(device)
    images = load_validation(val_dir, val_split, 4, val_max_images)
    rows = {}
    for name in names:
        model, entry = load_zoo_model(name)
        row = measure_model(model, images, torch_device, latency_size, latency_runs, latency_warmup)
        rows[entry.label] = {"name": name, "label": entry.label, **row}
    return rows
