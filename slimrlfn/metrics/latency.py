"""Timers that record every call, the fp32 matrix-multiply peak, and one timed call.

Follows the timing of the NTIRE 2024 ESR ``test_demo.py`` (CUDA events around one forward, then
``torch.cuda.synchronize``) and PyTorch's own benchmark advice (synchronise before reading a clock,
keep every sample, report the median and its spread).

- :class:`CudaEventTimer`: synchronise, record a start event, run, record an end event,
  synchronise, ``start.elapsed_time(end)`` (GPU time between the events, ms).
- :class:`PerfCounterTimer`: ``time.perf_counter`` around the call, with the device synchronised
  before and after (a no-op on CPU).
- Both also keep the host wall time of every call (``wall_ms``) and never drop a sample: the
  caller marks which ones are warm-up.
- :func:`matmul_peak_gflops`: the machine's fp32 ``torch.matmul`` throughput, the yardstick of the
  inference paths' share of the peak; :func:`timed_ms`: one synchronised call in ms.

The statistics of the samples are in :mod:`slimrlfn.metrics.stats`.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from slimrlfn.core.devices import synchronize

__all__ = ["CudaEventTimer", "PerfCounterTimer", "make_timer", "matmul_peak_gflops", "timed_ms", "timer_overhead_us"]


class PerfCounterTimer:
    """``time.perf_counter`` timer; synchronises ``device`` before and after the call."""

    kind = "perf_counter"

    def __init__(self, device: torch.device) -> None:
        self.device = torch.device(device)

    def __call__(self, fn: Callable[..., Any], *args: Any) -> Tuple[Any, float, float]:
        """Run ``fn(*args)``; returns ``(result, ms, wall_ms)`` (the two are the same here)."""
        synchronize(self.device)
        begin = time.perf_counter()
        result = fn(*args)
        synchronize(self.device)
        ms = (time.perf_counter() - begin) * 1000.0
        return result, ms, ms


class CudaEventTimer:
    """CUDA-event timer as ``test_demo.py``: events around the call, synchronise, elapsed ms.

    The device is synchronised before the start event too, so no earlier queued work overlaps.
    ``wall_ms`` is the host time from before the start event to after the final synchronise.
    """

    kind = "cuda_event"

    def __init__(self, device: torch.device) -> None:
        self.device = torch.device(device)
        if self.device.type != "cuda":
            raise ValueError(f"CudaEventTimer needs a CUDA device, got {self.device}")

    def __call__(self, fn: Callable[..., Any], *args: Any) -> Tuple[Any, float, float]:
        """Run ``fn(*args)``; returns ``(result, event ms, wall ms)``."""
        torch.cuda.synchronize(self.device)
        begin = time.perf_counter()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        result = fn(*args)
        end.record()
        torch.cuda.synchronize(self.device)
        wall_ms = (time.perf_counter() - begin) * 1000.0
        return result, float(start.elapsed_time(end)), wall_ms


def make_timer(device: torch.device):
    """CUDA events on a CUDA device, ``perf_counter`` otherwise."""
    device = torch.device(device)
    return CudaEventTimer(device) if device.type == "cuda" else PerfCounterTimer(device)


def timer_overhead_us(device: torch.device, calls: int = 2000) -> Dict[str, float]:
    """Median and mean cost (µs) of timing an empty region with :func:`make_timer`'s timer."""
    timer = make_timer(device)
    noop = lambda: None  # noqa: E731
    samples = np.array([timer(noop)[1] for _ in range(calls)]) * 1000.0
    return {"timer": timer.kind, "calls": calls, "median_us": float(np.median(samples)),
            "mean_us": float(samples.mean()), "max_us": float(samples.max())}


def matmul_peak_gflops(device: torch.device, sizes: Sequence[int] = (1024, 2048, 3072), reps: int = 5) -> Dict[str, Any]:
    """Best fp32 ``torch.matmul`` throughput [GFLOP/s, 2 n^3 per product] over square ``sizes``.

    Each size: one untimed product, then the median of ``reps`` timed ones.
    """
    per_size = {}
    for n in sizes:
        a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
        a @ b
        times = []
        for _ in range(reps):
            synchronize(device)
            begin = time.perf_counter()
            a @ b
            synchronize(device)
            times.append(time.perf_counter() - begin)
        per_size[int(n)] = 2 * n ** 3 / float(np.median(times)) / 1e9
    return {"gflops": max(per_size.values()), "per_size": per_size}


def timed_ms(fn: Callable, x: Optional[torch.Tensor], device: torch.device) -> float:
    """Milliseconds of one call ``fn(x)``, the device synchronised before and after."""
    synchronize(device)
    begin = time.perf_counter()
    fn(x)
    synchronize(device)
    return (time.perf_counter() - begin) * 1000.0
