"""What a pruning step is measured by: PSNR on a validation set, params, FLOPs, latency and the NTIRE score.

- PSNR as NTIRE's ``test_demo.py`` computes it (SR clamped and rounded to uint8, RGB, border = scale),
  mean over the images: :func:`slimrlfn.train.validation.validate_psnr`.
- Params and FLOPs as :mod:`slimrlfn.metrics.counts` counts them (fvcore on 1x3x256x256); they depend on
  the architecture only, so they are cached by config (:func:`slimrlfn.metrics.counts.architecture_counts`).
- Latency: forwards of one random (1, 3, S, S) input, the RLFN baseline timed in the same loop, alternating
  with the model (ABAB...), so that load changes on a shared machine hit both alike; ``warmup`` pairs first
  (kept, not counted), then at least ``runs`` pairs, and on until the paired ratio model / RLFN has a 95 %
  interval of +-``latency_target`` (3 %) or ``latency_seconds`` of pairs have gone by (which of the two is
  recorded). Reported: the median with its bootstrap interval, and the paired ratio (the median of the
  per-pair ratios) with its interval over the pairs and their number.
- NTIRE ESR score, relative to RLFN (lower is better; RLFN itself scores e^2 = 7.389), with the weights of the
  year record :data:`slimrlfn.metrics.score.SCORE_YEAR` (2024, whose baseline RLFN is; :mod:`slimrlfn.metrics.years`):
  :func:`slimrlfn.metrics.score.ntire_score` of the paired ratio (runtime term ``exp(2 ratio)``), so the
  score's interval is the ratio's interval carried through it.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.config import build_model, config_of, default_config
from slimrlfn.arch.contract import WORKBOOK_RANGE, Contract
from slimrlfn.arch.zoo import load_zoo_model
from slimrlfn.core.devices import resolve_device
from slimrlfn.core.files import PathLike
from slimrlfn.data.validation import load_validation
from slimrlfn.metrics.counts import architecture_counts
from slimrlfn.metrics.latency import make_timer
from slimrlfn.metrics.score import SCORE_YEAR, ntire_score
from slimrlfn.metrics.years import YEARS
from slimrlfn.metrics.stats import bootstrap_ci, paired_ratio
from slimrlfn.prune.units import unit_widths
from slimrlfn.train.validation import validate_psnr

__all__ = [
    "DEFAULT_SECONDS",
    "DEFAULT_TARGET",
    "MEASURE_KEYS",
    "measure_model",
    "paired_latency",
    "reference_records",
]

#: The keys of :func:`measure_model`'s result (a step-0 record holds them, ``psnr`` as ``psnr_after``).
MEASURE_KEYS = ("config", "widths", "params_m", "flops_g", "params", "flops", "psnr", "psnr_per_image", "latency_ms",
                "latency_ci_ms", "latency_iqr_ms", "rlfn_latency_ms", "latency_ratio", "latency_ratio_ci",
                "latency_pairs", "latency_stopped_by", "latency", "ntire_score", "ntire_score_ci")
#: Timing goes on until the paired ratio's 95 % interval is +-3 % ...
DEFAULT_TARGET = 0.03
#: ... or this many seconds of pairs have been timed.
DEFAULT_SECONDS = 20.0


@torch.no_grad()
def paired_latency(
    model: nn.Module,
    baseline: Optional[nn.Module],
    device: torch.device,
    size: int = 128,
    runs: int = 5,
    warmup: int = 1,
    seed: int = 0,
    *,
    data_range: float,
    target_half_width: Optional[float] = None,
    time_cap_s: Optional[float] = None,
    max_runs: int = 400,
    clock: Callable[[], float] = time.perf_counter,
) -> Dict[str, Any]:
    """Forward latency (ms) of ``model`` and, alternating with it (ABAB...), of ``baseline`` on one
    (1, 3, size, size) input in [0, ``data_range``].

    ``runs`` pairs are timed after ``warmup`` ones; with a baseline and ``target_half_width`` (0.03: +-3 %),
    timing goes on, pair by pair, until the paired ratio's 95 % interval is that narrow, ``time_cap_s`` seconds
    have gone by (counted from the first timed pair) or ``max_runs`` pairs were timed; ``stopped_by`` says which
    (``runs`` when no target was set). ``clock`` (seconds) measures the time cap; tests pass a fake one.

    Returns the medians over the timed samples (``latency_ms``, ``baseline_latency_ms``) with bootstrap 95 %
    intervals (``latency_ci_ms``, ``baseline_ci_ms``), their minima (``latency_min_ms``, ``baseline_min_ms``:
    other load only ever adds time), the IQR, the paired ratio model / baseline (``ratio``, ``ratio_ci``,
    ``pairs``: :func:`slimrlfn.metrics.stats.paired_ratio`), every sample (warm-up first), the timer kind,
    thread count and input shape.
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
    budgeted = baseline is not None and target_half_width is not None
    stopped_by = "runs"
    begin = None
    i = 0
    while True:
        if i == warmup:
            begin = clock()
        order = models if i % 2 == 0 else models[::-1]
        for name, net in order:
            _, ms, _ = timer(net, x)
            samples[name].append(float(ms))
        i += 1
        timed = i - warmup
        if timed < runs:
            continue
        if not budgeted:
            break
        if timed % 2 == 0 or timed == runs:  # the interval every other pair: a bootstrap costs time too
            if paired_ratio(samples["model"][warmup:], samples["baseline"][warmup:],
                            n_boot=500, seed=seed)["half_width"] <= target_half_width:
                stopped_by = "precision"
                break
        if time_cap_s is not None and clock() - begin >= time_cap_s:
            stopped_by = "time cap"
            break
        if timed >= max_runs:
            stopped_by = "max runs"
            break
    model_ms = samples["model"][warmup:]
    result: Dict[str, Any] = {
        "latency_ms": float(np.median(model_ms)),
        "latency_ci_ms": list(bootstrap_ci(model_ms, seed=seed)),
        "latency_samples_ms": samples["model"],
        "latency_iqr_ms": float(np.subtract(*np.percentile(model_ms, [75, 25]))),
        "latency_min_ms": float(np.min(model_ms)),
        "warmup": warmup, "runs": runs, "pairs": len(model_ms), "stopped_by": stopped_by,
        "target_half_width": target_half_width if budgeted else None, "time_cap_s": time_cap_s if budgeted else None,
        "input_shape": [1, in_channels, size, size],
        "timer": timer.kind, "threads": torch.get_num_threads(), "device": str(device),
    }
    if baseline is not None:
        base_ms = samples["baseline"][warmup:]
        paired = paired_ratio(model_ms, base_ms, seed=seed)
        result["baseline_latency_ms"] = float(np.median(base_ms))
        result["baseline_ci_ms"] = list(bootstrap_ci(base_ms, seed=seed))
        result["baseline_min_ms"] = float(np.min(base_ms))
        result["baseline_samples_ms"] = samples["baseline"]
        result.update(ratio=paired["ratio"], ratio_ci=paired["ci"], ratio_half_width=paired["half_width"])
    return result


def measure_model(
    model: nn.Module,
    val_images: Sequence[Any],
    device: torch.device,
    latency_size: int = 128,
    latency_runs: int = 5,
    latency_warmup: int = 1,
    seed: int = 0,
    latency_target: Optional[float] = DEFAULT_TARGET,
    latency_seconds: Optional[float] = DEFAULT_SECONDS,
    *,
    contract: Optional[Contract] = None,
    counts: Optional[Mapping[str, Any]] = None,
    describe: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """PSNR, params, FLOPs, latency (paired with RLFN, to ``latency_target`` or ``latency_seconds``) and the NTIRE
    score of ``model`` on this device, each latency and score with its 95 % interval and the number of pairs.

    ``model`` takes and gives ``contract``'s range; its ``counts`` (``params_m``, ``flops_g``, ``params``, ``flops``)
    and ``describe`` (``config``, ``widths``) are the pruner's (:mod:`slimrlfn.prune.pruners`). Left out, ``model``
    is an RLFN / SlimRLFN: its contract, counts and widths come from its config.
    """
    if counts is None or describe is None or contract is None:
        config = config_of(model)
        counts = architecture_counts(config) if counts is None else counts
        describe = {"config": config, "widths": unit_widths(config)} if describe is None else describe
        contract = Contract(WORKBOOK_RANGE, config["upscale"]) if contract is None else contract
    rlfn_config = default_config("rlfn")
    rlfn_counts = architecture_counts(rlfn_config)
    model = model.to(device).eval()
    psnr = validate_psnr(model, val_images, device, contract.scale, data_range=contract.data_range)
    torch.manual_seed(seed)
    rlfn = build_model(rlfn_config)  # timing depends on the architecture only
    latency = paired_latency(model, rlfn, device, latency_size, latency_runs, latency_warmup, seed,
                             data_range=contract.data_range, target_half_width=latency_target,
                             time_cap_s=latency_seconds)

    def score(ratio: float) -> float:  # the runtime term from the paired ratio, not from two separate medians
        return ntire_score(ratio, counts["flops_g"], counts["params_m"], 1.0, rlfn_counts["flops_g"],
                           rlfn_counts["params_m"], YEARS[SCORE_YEAR].weights)  # type: ignore[arg-type]

    return {"config": describe["config"], "widths": describe["widths"], "params_m": counts["params_m"],
            "flops_g": counts["flops_g"], "params": counts["params"], "flops": counts["flops"],
            "psnr": psnr["psnr"], "psnr_per_image": psnr["psnr_per_image"],
            "latency_ms": latency["latency_ms"], "latency_ci_ms": latency["latency_ci_ms"],
            "latency_iqr_ms": latency["latency_iqr_ms"], "rlfn_latency_ms": latency["baseline_latency_ms"],
            "latency_ratio": latency["ratio"], "latency_ratio_ci": latency["ratio_ci"],
            "latency_pairs": latency["pairs"], "latency_stopped_by": latency["stopped_by"], "latency": latency,
            "ntire_score": score(latency["ratio"]), "ntire_score_ci": [score(r) for r in latency["ratio_ci"]]}


def reference_records(
    names: Sequence[str],
    val_dir: PathLike,
    val_split: str = "valid",
    val_max_images: Optional[int] = None,
    device: Union[str, torch.device] = "auto",
    latency_size: int = 128,
    latency_runs: int = 5,
    latency_warmup: int = 1,
    latency_target: Optional[float] = DEFAULT_TARGET,
    latency_seconds: Optional[float] = DEFAULT_SECONDS,
) -> Dict[str, Dict[str, Any]]:
    """:func:`measure_model` of official zoo models (e.g. ``slimrlfn``, ``slimrlfn_prune``), keyed by label."""
    torch_device = resolve_device(device)
    images = load_validation(val_dir, val_split, 4, val_max_images)
    rows = {}
    for name in names:
        model, entry = load_zoo_model(name)
        row = measure_model(model, images, torch_device, latency_size, latency_runs, latency_warmup,
                            latency_target=latency_target, latency_seconds=latency_seconds)
        rows[entry.label] = {"name": name, "label": entry.label, **row}
    return rows
