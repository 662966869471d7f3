"""Timing protocols of the warm-up study: settings, and one run of ``ntire``, ``warm`` or ``micro``.

- ``ntire``: the per-image loop of the NTIRE 2024 ESR ``test_demo.py``: read LR, to tensor, timed
  forward (``slimrlfn.deploy.forward.forward_image``), SR back to uint8 (untimed); no warm-up.
- ``warm``: ``warmup`` passes over the split's images (kept, marked warm-up), then one timed pass.
- ``micro``: random (seeded) inputs of fixed LR shapes, default 1x3x256x256 (NTIRE's profiling
  input) and 1x3x339x510 (the LR of a DIV2K-sized 1356x2040 HR): ``warmup`` then ``iters``
  forwards per shape.

Every forward is kept as a sample ``{name, shape, warmup, ms, wall_ms}`` (see :mod:`slimrlfn.timing`).
Factors: ``threads`` (CPU intra-op threads), ``channels_last``; GPU only: ``fp16``,
``cudnn_benchmark``, ``cuda_module_loading`` (LAZY/EAGER, set in the worker's environment).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.rlfn import MIN_INPUT_SIZE
from slimrlfn.core.devices import resolve_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.data.images import read_image
from slimrlfn.data.pairs import find_pairs
from slimrlfn.arch.contract import tensor_to_uint8, uint8_to_tensor
from slimrlfn.deploy.backends import resolve_backend
from slimrlfn.deploy.forward import forward_image
from slimrlfn.metrics.latency import make_timer

__all__ = ["DEFAULT_SIZES", "PROTOCOLS", "TimingSettings", "make_settings", "run_protocol", "summarize_groups"]

PROTOCOLS = ("ntire", "warm", "micro")
#: micro-benchmark LR shapes (H, W): NTIRE's profiling input and a DIV2K-sized LR (1356x2040 HR / 4).
DEFAULT_SIZES = ((256, 256), (339, 510))
_DEFAULT_WARMUP = {"ntire": 0, "warm": 1, "micro": 3}


@dataclass
class TimingSettings:
    """Everything that defines a measurement except the models and the number of runs."""

    protocol: str = "ntire"
    device: str = "cpu"
    data_dir: Optional[str] = None
    split: str = "valid"
    warmup: int = 0
    iters: int = 10
    sizes: List[List[int]] = field(default_factory=lambda: [list(s) for s in DEFAULT_SIZES])
    threads: Optional[int] = None
    channels_last: bool = False
    fp16: bool = False
    cudnn_benchmark: bool = False
    cuda_module_loading: Optional[str] = None
    seed: int = 0
    backend: str = "eager"


def make_settings(protocol: str = "ntire", device: str = "auto", data_dir: Optional[PathLike] = None,
                  split: str = "valid", warmup: Optional[int] = None, iters: int = 10,
                  sizes: Optional[Sequence[Sequence[int]]] = None, threads: Optional[int] = None,
                  channels_last: bool = False, fp16: bool = False, cudnn_benchmark: bool = False,
                  cuda_module_loading: Optional[str] = None, seed: int = 0, backend: str = "eager") -> TimingSettings:
    """Checked settings; UserError with one line for each kind of bad value."""
    if protocol not in PROTOCOLS:
        raise UserError(f"--protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    torch_device = resolve_device(device)
    if warmup is None:
        warmup = _DEFAULT_WARMUP[protocol]
    if warmup < 0:
        raise UserError(f"--warmup {warmup}: expected 0 or more")
    if protocol == "ntire" and warmup:
        raise UserError(f"--warmup {warmup}: the ntire protocol has no warm-up (as test_demo.py); use --protocol warm")
    if iters < 1:
        raise UserError(f"--iters {iters}: expected at least 1")
    sizes = [list(s) for s in (sizes if sizes is not None else DEFAULT_SIZES)]
    for size in sizes:
        if len(size) != 2 or min(size) < MIN_INPUT_SIZE:
            raise UserError(f"--sizes {'x'.join(map(str, size))}: expected HxW with both sides >= {MIN_INPUT_SIZE}")
    if threads is not None and threads < 1:
        raise UserError(f"--threads {threads}: expected at least 1")
    if cuda_module_loading is not None:
        cuda_module_loading = cuda_module_loading.upper()
        if cuda_module_loading not in ("LAZY", "EAGER"):
            raise UserError(f"--cuda_module_loading {cuda_module_loading}: expected LAZY or EAGER")
    if torch_device.type != "cuda":
        for flag, value in (("--fp16", fp16), ("--cudnn_benchmark", cudnn_benchmark),
                            ("--cuda_module_loading", cuda_module_loading)):
            if value:
                raise UserError(f"{flag}: a GPU factor, but the device is {torch_device}; on CPU vary --threads and --channels_last")

    backend = resolve_backend(backend, torch_device)
    if backend != "eager":
        for flag, value in (("--channels_last", channels_last), ("--fp16", fp16)):
            if value:
                raise UserError(f"{flag}: a factor of the eager backend, not of --backend {backend} "
                                f"(use --backend {flag[2:]} for that path)")
    if protocol in ("ntire", "warm"):
        if data_dir is None:
            raise UserError(f"--data_dir: the {protocol} protocol needs NTIRE-layout data")
        find_pairs(data_dir, split)  # UserError when there are no pairs
        data_dir = str(Path(data_dir).resolve())
    else:
        data_dir = None
    return TimingSettings(protocol, str(torch_device), data_dir, split, int(warmup), int(iters), sizes,
                          threads, bool(channels_last), bool(fp16), bool(cudnn_benchmark), cuda_module_loading, seed,
                          backend)


def _as_input(x: torch.Tensor, settings: TimingSettings) -> torch.Tensor:
    if settings.fp16:
        x = x.half()
    if settings.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _sample(name: str, x: torch.Tensor, warmup: bool, ms: float, wall_ms: float) -> Dict[str, Any]:
    return {"name": name, "shape": list(x.shape[-2:]), "warmup": warmup, "ms": ms, "wall_ms": wall_ms}


@torch.no_grad()
def run_protocol(model: nn.Module, settings: TimingSettings, device: torch.device,
                 pairs: Optional[Sequence[Any]] = None, *, data_range: float,
                 tile: Optional[int] = None) -> List[Dict[str, Any]]:
    """One run of ``settings.protocol``; returns every sample ``{name, shape, warmup, ms, wall_ms}``.

    The model takes and gives [0, ``data_range``] (images converted as ``test_demo.py`` does); ``tile`` is
    its evaluation tile (the ``ntire`` and ``warm`` protocols forward whole images when None).
    """
    timer = make_timer(device)
    samples: List[Dict[str, Any]] = []
    if settings.protocol == "ntire":
        for pair in pairs:
            lr = _as_input(uint8_to_tensor(read_image(pair.lr_path), device, data_range), settings)
            sr, ms, wall_ms = timer(forward_image, model, lr, tile)
            tensor_to_uint8(sr, data_range)
            samples.append(_sample(pair.name, lr, False, ms, wall_ms))
    elif settings.protocol == "warm":
        inputs = [(p.name, _as_input(uint8_to_tensor(read_image(p.lr_path), device, data_range), settings))
                  for p in pairs]
        for is_warmup, passes in ((True, settings.warmup), (False, 1)):
            for _ in range(passes):
                for name, lr in inputs:
                    sr, ms, wall_ms = timer(forward_image, model, lr, tile)
                    tensor_to_uint8(sr, data_range)
                    samples.append(_sample(name, lr, is_warmup, ms, wall_ms))
    elif settings.protocol == "micro":
        generator = torch.Generator().manual_seed(settings.seed)
        for h, w in settings.sizes:
            x = _as_input((torch.rand(1, 3, h, w, generator=generator) * data_range).to(device), settings)
            for i in range(settings.warmup + settings.iters):
                _, ms, wall_ms = timer(model, x)
                samples.append(_sample(f"{h}x{w}", x, i < settings.warmup, ms, wall_ms))
    else:
        raise UserError(f"protocol {settings.protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    return samples


def summarize_groups(samples: List[Dict[str, Any]], protocol: str) -> Dict[str, Dict[str, Any]]:
    """Per group (``images``, or the shape for micro): mean/median/first of the timed samples."""
    groups: Dict[str, List[float]] = {}
    warm: Dict[str, int] = {}
    for s in samples:
        key = s["name"] if protocol == "micro" else "images"
        if s["warmup"]:
            warm[key] = warm.get(key, 0) + 1
        else:
            groups.setdefault(key, []).append(s["ms"])
    return {k: {"n": len(v), "mean_ms": float(np.mean(v)), "median_ms": float(np.median(v)),
                "first_ms": v[0], "warmup_n": warm.get(k, 0)} for k, v in groups.items()}
