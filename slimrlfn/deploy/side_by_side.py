"""Several models on one inference path, timed side by side in interleaved rounds, with the matmul peak.

For each LR size ``(h, w)``, every model is built on the path ``backend`` (default ``auto``: the path
``slimrlfn eval`` takes for one image of that size, :func:`slimrlfn.deploy.backends.resolve_backend`),
called ``warmup`` times untimed, then timed in ``rounds`` rounds. Each round times one call of every
model and one fp32 ``torch.matmul`` of the fastest square size found by
:func:`slimrlfn.metrics.latency.matmul_peak_gflops` (same threads), in an order shuffled per round, so
that a slow drift of the machine and position effects fall on all alike.

Per model and size: the median and IQR [ms], GFLOP/s (2 x fvcore FLOPs at that size / median),
``peak_fraction`` (that over the median peak of the same rounds), and against ``reference`` the paired
ratio model / reference (the median of the per-round ratios, with its bootstrap 95 % interval over the
rounds: :func:`slimrlfn.metrics.stats.paired_ratio`). The input is a real photo resized to the LR size
(:func:`slimrlfn.data.sample.real_input`), in [0, 255]. Models run in this process (one path, the same
thread pool for all).
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Mapping, Sequence

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.contract import WORKBOOK_RANGE
from slimrlfn.core.errors import UserError
from slimrlfn.core.progress import tqdm
from slimrlfn.data.sample import real_input
from slimrlfn.deploy.backends import build_backend
from slimrlfn.metrics.counts import fvcore_flops
from slimrlfn.metrics.latency import matmul_peak_gflops, timed_ms
from slimrlfn.metrics.stats import paired_ratio

__all__ = ["PEAK_NAME", "time_side_by_side"]

PEAK_NAME = "matmul_peak"


def time_side_by_side(models: Mapping[str, nn.Module], reference: str, sizes: Sequence[Sequence[int]],
                      rounds: int = 30, warmup: int = 2, backend: str = "auto", device: str = "cpu",
                      seed: int = 0, progress: bool = True, peak_sizes: Sequence[int] = (1024, 2048, 3072),
                      log: Callable[[str], None] = lambda line: None) -> Dict[str, Any]:
    """Time ``models`` (``{label: model taking and giving [0, 255]}``: workbook architectures, ``WORKBOOK_RANGE``) at every LR size ``(h, w)`` of ``sizes``.

    Returns ``{"threads", "load_average": [before, after], "peak": {"n", "gflops"}, "rows": [...]}``; one row
    per (size, model): label, size [h, w], backend, resolved, flops_g, median_ms, iqr_ms, times_ms, gflops,
    peak_gflops, peak_fraction, and ``vs_reference`` (:func:`slimrlfn.metrics.stats.paired_ratio` of
    model / reference; ratio 1 for the reference itself). UserError for a ``reference`` not in ``models``,
    fewer than 2 rounds, or a size below 15 pixels. ``peak_sizes``: the square matmul sizes tried for the peak.
    """
    if reference not in models:
        raise UserError(f"reference {reference!r}: expected one of {', '.join(models)}")
    if rounds < 2:
        raise UserError(f"--rounds {rounds}: expected at least 2 (a paired ratio needs pairs)")
    for size in sizes:
        if len(size) != 2 or min(size) < 15:
            raise UserError(f"--sizes {size}: expected H W of at least 15 pixels each")
    torch_device = torch.device(device)
    per_size = matmul_peak_gflops(torch_device, sizes=peak_sizes)["per_size"]
    n = max(per_size, key=per_size.get)
    a, b = torch.randn(n, n, device=torch_device), torch.randn(n, n, device=torch_device)
    document: Dict[str, Any] = {"threads": torch.get_num_threads(), "load_average": [os.getloadavg()[0]],
                                "peak": {"n": int(n)}, "rows": []}
    rng = np.random.default_rng(seed)
    peaks: list = []
    bar = tqdm(total=len(sizes) * rounds, desc="side by side", unit="round", disable=not progress)
    try:
        for h, w in sizes:
            x = real_input(int(h), int(w), torch_device, WORKBOOK_RANGE)
            paths = {label: build_backend(backend, model, torch_device, example=x, data_range=WORKBOOK_RANGE,
                                         lr_pixels=int(h) * int(w))
                     for label, model in models.items()}
            runs: Dict[str, Callable[[], Any]] = {label: (lambda p=path: p(x)) for label, path in paths.items()}
            runs[PEAK_NAME] = lambda: a @ b
            for _ in range(warmup):
                for run in runs.values():
                    run()
            times: Dict[str, list] = {label: [] for label in runs}
            for _ in range(rounds):
                for label in rng.permutation(list(runs)):
                    times[str(label)].append(timed_ms(lambda _x, r=runs[str(label)]: r(), None, torch_device))
                bar.update(1)
            peak_samples = [2 * n ** 3 / (ms / 1000.0) / 1e9 for ms in times[PEAK_NAME]]
            peaks.extend(peak_samples)
            peak = float(np.median(peak_samples))
            for label, model in models.items():
                median = float(np.median(times[label]))
                q1, q3 = np.percentile(times[label], [25, 75])
                flops = fvcore_flops(model, (1, 3, int(h), int(w)))
                gflops = 2 * flops / (median / 1000.0) / 1e9
                document["rows"].append({
                    "label": label, "size": [int(h), int(w)], "backend": backend, "resolved": paths[label].name,
                    "flops_g": flops / 1e9, "median_ms": median, "iqr_ms": float(q3 - q1), "times_ms": times[label],
                    "gflops": gflops, "peak_gflops": peak, "peak_fraction": gflops / peak,
                    "vs_reference": paired_ratio(times[label], times[reference], seed=seed)})
            log(f"{h}x{w}: " + ", ".join(f"{label} {np.median(times[label]):.1f} ms" for label in models)
                + f"; matmul peak {peak:.1f} GFLOP/s")
    finally:
        bar.close()
    document["peak"]["gflops"] = float(np.median(peaks)) if peaks else None
    document["load_average"].append(os.getloadavg()[0])
    return document
