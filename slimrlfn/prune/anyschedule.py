"""Iterative pruning of any SR network (a class, a challenge entry), with distillation fine-tuning; resumable.

Step 0 is the starting model. Each step k = 1 .. ``steps``: :func:`slimrlfn.prune.anymodel.prune_any`
removes ``fraction`` of every prunable unit's channels (the units tried at step 1, lowest group L1
first); :func:`slimrlfn.train.finetune.finetune` recovers it in inference mode (L1 to HR + lambda x L1
to the unpruned model, on HR patches of ``hr_dirs``); then it is measured: PSNR on every validation
set (RGB, border 4, as ``test_demo.py``), params, fvcore FLOPs (1x3x256x256, with the skipped
operators) and the median latency of a (1, 3, S, S) forward, alternating with the unpruned model on
the same device (:func:`slimrlfn.prune.measure.paired_latency`: a speed-up measured side by side).

Every finished step is saved as a derived model (:mod:`slimrlfn.arch.derived`: ``step_KK.pth`` +
``step_KK.json``; ``slimrlfn eval --checkpoint step_KK.pth`` loads it) and recorded in ``run.json``
(atomically). Started again with the same settings, a run resumes after its last finished step; with
other settings it stops with one line (``overwrite`` starts it again).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List

import torch
import torch.nn as nn
from tqdm.auto import tqdm

from slimrlfn.arch.derived import first_line, load_derived, save_derived
from slimrlfn.arch.source import ModelSpec, absolute_class_path, resolve_model
from slimrlfn.core.devices import resolve_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json
from slimrlfn.core.outputs import check_output_dir
from slimrlfn.data.patches import PatchDataset
from slimrlfn.data.validation import load_validation
from slimrlfn.metrics.counts import count_parameters, fvcore_count
from slimrlfn.prune.anymodel import AnyModelGroups, prune_any
from slimrlfn.prune.measure import paired_latency
from slimrlfn.train.finetune import finetune
from slimrlfn.train.validation import validate_psnr

__all__ = ["AnyPruneSettings", "prune_any_iteratively"]


@dataclass
class AnyPruneSettings:
    """The settings of a run (all but ``out_dir``, ``steps``, ``device``, ``progress`` and ``overwrite`` shape its
    result: a run resumed with more ``steps`` goes on)."""

    out_dir: str = "runs/prune_any"
    steps: int = 3
    fraction: float = 0.1  # share of every unit's channels removed per step
    min_width: int = 4
    multiple_of: int = 1  # widths left are multiples of this (e.g. 8: hardware-friendly)
    val_dirs: List[str] = field(default_factory=list)  # NTIRE-layout or HR/ + LR_bicubic/X4/ folders
    hr_dirs: List[str] = field(default_factory=list)  # HR images for fine-tuning
    finetune_iterations: int = 100
    batch_size: int = 8
    lr_patch: int = 32
    lr: float = 1e-4
    distill_weight: float = 1.0
    latency_size: int = 128
    latency_runs: int = 7
    seed: int = 0
    device: str = "auto"
    progress: bool = True
    overwrite: bool = False


_NOT_IDENTITY = ("out_dir", "steps", "device", "progress", "overwrite")  # more steps extend a run


def _absolute_paths(identity: Dict[str, Any]) -> Dict[str, Any]:
    """``identity`` with ``val_dirs``, ``hr_dirs`` and the source's ``file.py:Class`` absolute (relative ones against
    the current folder), so that a run is the same run whichever folder it is started or resumed from."""
    source = identity.get("source")
    if isinstance(source, dict) and isinstance(source.get("model"), str):
        source = {**source, "model": absolute_class_path(source["model"])}
    return {**identity, "source": source, **{key: [str(Path(d).resolve()) for d in identity.get(key) or []]
                                             for key in ("val_dirs", "hr_dirs")}}


def _check(settings: AnyPruneSettings) -> None:
    if settings.steps < 1:
        raise UserError(f"--steps {settings.steps}: expected at least 1")
    if not 0.0 < settings.fraction < 1.0:
        raise UserError(f"--fraction {settings.fraction}: expected a number between 0 and 1")
    if not settings.val_dirs:
        raise UserError("--val_dir: give at least one validation folder (e.g. ../shared/datasets/Set5)")
    if settings.finetune_iterations > 0 and not settings.hr_dirs:
        raise UserError("--hr_dir: fine-tuning needs HR images (or give --finetune_iterations 0)")


def _measure(model: nn.Module, start: nn.Module, spec: ModelSpec, validation: Dict[str, Any], device: torch.device,
             settings: AnyPruneSettings) -> Dict[str, Any]:
    flops = fvcore_count(model)
    record: Dict[str, Any] = {"params_m": count_parameters(model) / 1e6, "flops_g": flops["flops"] / 1e9,
                              "fvcore_uncounted": flops["uncounted"],
                              "psnr": {name: validate_psnr(model, images, device, data_range=spec.data_range)["psnr"]
                                       for name, images in validation.items()}}
    latency = paired_latency(model, start, device, settings.latency_size, settings.latency_runs,
                             seed=settings.seed, data_range=spec.data_range)
    record.update(latency_ms=latency["latency_ms"], start_latency_ms=latency["baseline_latency_ms"],
                  speedup=latency["baseline_latency_ms"] / latency["latency_ms"], latency_threads=latency["threads"],
                  latency_input=latency["input_shape"])
    return record


def prune_any_iteratively(spec: ModelSpec, settings: AnyPruneSettings,
                          log: Callable[[str], None] = print) -> Dict[str, Any]:
    """Run (or resume) the schedule of the module docstring on ``spec``; returns the ``run.json`` document."""
    _check(settings)
    device = resolve_device(settings.device)
    out = check_output_dir(settings.out_dir, "--out_dir")
    identity = _absolute_paths({"source": spec.arguments,
                               **{k: v for k, v in asdict(settings).items() if k not in _NOT_IDENTITY}})
    run_path = out / "run.json"
    run: Dict[str, Any] = {"kind": "slimrlfn-prune-any", "identity": identity, "model": spec.label, "steps": []}
    if run_path.is_file() and not settings.overwrite:
        try:
            existing = json.loads(run_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"--out_dir {out}: its run.json is not valid JSON ({exc}); pass --overwrite or choose "
                            f"another --out_dir") from None
        only_a_start = len(existing.get("steps") or []) <= 1  # a start that failed at its first step is replaced
        if isinstance(existing.get("identity"), dict):
            existing["identity"] = _absolute_paths(existing["identity"])  # an older run.json kept them relative
        if existing.get("identity") != identity and not only_a_start:
            raise UserError(f"--out_dir {out}: holds a run with other settings; pass --overwrite or choose another "
                            f"--out_dir")
        if existing.get("identity") == identity:
            run = existing
    validation = {Path(d).name: load_validation(d, flag="--val_dirs") for d in settings.val_dirs}
    dataset = PatchDataset(settings.hr_dirs, 4, settings.lr_patch, settings.seed) if settings.finetune_iterations else None
    start = spec.model.to(device).eval()
    if not run["steps"]:
        units = AnyModelGroups(start, spec.data_range)
        run.update(units={n: {"width": u.width, "block": u.block} for n, u in units.units.items()},
                   left_alone=units.left_alone, device=str(device), threads=torch.get_num_threads())
        run["steps"].append({"step": 0, **_measure(start, start, spec, validation, device, settings)})
        atomic_write_json(run_path, run)
    done = len(run["steps"]) - 1
    removals: List[Dict[str, List[int]]] = [s["removal"] for s in run["steps"][1:]]
    model = start if done == 0 else load_derived(out / f"step_{done:02d}.pth", resolve_model)[0].to(device)
    if done:
        log(f"resuming {out} after step {done}")
    for step in tqdm(range(done + 1, settings.steps + 1), desc="prune steps", unit="step", disable=not settings.progress):
        begin = time.perf_counter()
        model, removal, _ = prune_any(model, settings.fraction, spec.data_range, settings.min_width, list(run["units"]),
                                     settings.multiple_of)
        model = model.to(device)
        tuned = {"iterations": 0}
        if dataset is not None:
            try:
                tuned = finetune(model, dataset, start if settings.distill_weight else None,
                                 settings.finetune_iterations, settings.batch_size, settings.lr, settings.distill_weight,
                                 device, first_patch=step * settings.finetune_iterations * settings.batch_size,
                                 progress=settings.progress, desc=f"fine-tune step {step}",
                                 data_range=spec.data_range, inference_mode=True)
            except RuntimeError as exc:  # e.g. an inference path that writes into tensors autograd still needs
                raise UserError(f"{spec.label}: cannot be fine-tuned through its inference path "
                                f"({first_line(exc)})") from None
        for param in model.parameters():
            param.requires_grad_(False)
        removals.append(removal)
        record = {"step": step, "removal": removal, "removed": sum(len(v) for v in removal.values()),
                  "finetune": tuned, **_measure(model, start, spec, validation, device, settings),
                  "seconds": time.perf_counter() - begin}
        path = save_derived(model, out / f"step_{step:02d}.pth", spec.arguments, removals, spec.data_range,
                            {"label": f"{spec.label}-pruned{step}", "tile": spec.tile, "metrics": {k: record[k] for k in (
                                "params_m", "flops_g", "psnr", "latency_ms", "speedup")}})
        record["checkpoint"] = str(path)
        run["steps"].append(record)
        atomic_write_json(run_path, run)
        psnr = ", ".join(f"{n} {v:.3f}" for n, v in record["psnr"].items())
        log(f"step {step}: -{record['removed']} channels, {record['params_m']:.4f} M params, {record['flops_g']:.3f} G "
            f"FLOPs, PSNR {psnr} dB, {record['latency_ms']:.1f} ms ({record['speedup']:.2f}x the start) -> {path}")
    return run
