"""Checks of the reparameterization: the fused model equals the train-time one, and what each form costs.

- :func:`equivalence_check`: train-time model against its fused deploy form on one random input,
  in float32 and float64 (largest absolute and relative difference).
- :func:`forward_time_comparison`: inference time of the train-time model (branches summed), the same
  with online fusion, and the fused model, run in turn so that load changes hit them alike.
- :func:`parameter_counts` and :func:`summary`: what training carries against deployment, and notebook
  01b's ``01b_reparameterization.json``.
"""
from __future__ import annotations

import copy
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.config import unwrap
from slimrlfn.arch.reparam import RepConv3x3, branch_table, export_deploy
from slimrlfn.core.devices import synchronize

__all__ = ["equivalence_check", "forward_time_comparison", "forward_times_ms", "parameter_counts", "summary"]


@torch.no_grad()
def equivalence_check(model: nn.Module, input_shape: Sequence[int] = (1, 3, 48, 48), seed: int = 0) -> Dict[str, Any]:
    """Train-time ``model`` vs its fused :func:`export_deploy` on one random input in [0, 255].

    For float32 and float64: ``max_abs_diff`` and ``relative`` (= max abs diff / max abs output).
    ``model`` is untouched (copies are converted). Runs on the CPU with one thread (a small check:
    on a shared CPU, OpenMP threads waiting for each other cost far more than they give).
    """
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(*input_shape, generator=generator, dtype=torch.float64) * 255.0
    report: Dict[str, Any] = {"input_shape": list(input_shape)}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for dtype in (torch.float32, torch.float64):
            train_model = copy.deepcopy(unwrap(model)).to(device="cpu", dtype=dtype).eval()
            deploy = export_deploy(train_model)
            reference = train_model(x.to(dtype))
            diff = (deploy(x.to(dtype)) - reference).abs().max().item()
            report[str(dtype).replace("torch.", "")] = {"max_abs_diff": diff,
                                                        "relative": diff / reference.abs().max().item()}
    finally:
        torch.set_num_threads(threads)
    return report


@torch.no_grad()
def forward_times_ms(model: nn.Module, x: torch.Tensor, runs: int = 10) -> List[float]:
    """Milliseconds of ``runs`` forwards of ``x`` (every one kept, the first included), device synchronised."""
    model.eval()
    times = []
    for _ in range(runs):
        synchronize(x.device)
        begin = time.perf_counter()
        model(x)
        synchronize(x.device)
        times.append((time.perf_counter() - begin) * 1000.0)
    return times


@torch.no_grad()
def forward_time_comparison(model: nn.Module, input_shape: Sequence[int] = (1, 3, 64, 64), runs: int = 10,
                            device: torch.device = torch.device("cpu"), seed: int = 0,
                            threads: Optional[int] = None) -> Dict[str, Any]:
    """Inference time of the train-time model (branches), the same with online fusion, and the fused model.

    The three are run in turn (one forward each, ``runs`` rounds) so that load changes on a shared
    machine hit them alike. Returns per variant every time (ms, the first round included), the median
    and the interquartile range, and the median ratios to the fused model. ``threads`` sets the torch
    CPU threads for the measurement (default: as they are); the number used is recorded.
    """
    generator = torch.Generator().manual_seed(seed)
    x = (torch.rand(*input_shape, generator=generator) * 255.0).to(device)
    branches = copy.deepcopy(unwrap(model)).float().to(device).eval()
    online = copy.deepcopy(branches)
    for module in online.modules():
        if isinstance(module, RepConv3x3):
            module.online_fusion = True
    for module in branches.modules():
        if isinstance(module, RepConv3x3):
            module.online_fusion = False
    variants = {"train-time (branches)": branches, "train-time (online fusion)": online,
                "fused (deploy)": export_deploy(branches)}
    times: Dict[str, List[float]] = {name: [] for name in variants}
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        used = torch.get_num_threads()
        for _ in range(runs):
            for name, net in variants.items():
                times[name] += forward_times_ms(net, x, runs=1)
    finally:
        torch.set_num_threads(before)
    rows = {}
    for name, values in times.items():
        q1, median, q3 = np.percentile(np.asarray(values, dtype=np.float64), [25, 50, 75])
        rows[name] = {"times_ms": values, "median_ms": float(median), "iqr_ms": float(q3 - q1)}
    fused = rows["fused (deploy)"]["median_ms"]
    for row in rows.values():
        row["ratio_to_fused"] = row["median_ms"] / fused
    return {"input_shape": list(input_shape), "runs": runs, "device": str(device), "cpu_threads": used,
            "variants": rows}


def parameter_counts(train_model: nn.Module, edge_model: nn.Module) -> Dict[str, int]:
    """Parameters of the train-time model (default branches), the same with edge branches, and the fused deploy model."""
    def count(model: nn.Module) -> int:
        return sum(p.numel() for p in model.parameters())

    return {"train-time (default branches)": count(train_model), "train-time (+ edge branches)": count(edge_model),
            "deploy (fused)": count(export_deploy(train_model))}


def summary(quick: bool, device_info: Mapping[str, Any], config: Mapping[str, Any], train_model: nn.Module,
            edge_model: nn.Module, equivalence: Mapping[str, Any], timing: Mapping[str, Any]) -> Dict[str, Any]:
    """Notebook 01b's ``01b_reparameterization.json``: the branches and parameters of both train-time models,
    the equivalence checks and the forward times."""
    table = branch_table(train_model)
    return {"quick": bool(quick), "device_info": dict(device_info), "config": dict(config),
            "branch_counts": {"default": int(table[0]["branches"]), "with_edge": int(branch_table(edge_model)[0]["branches"])},
            "parameters": parameter_counts(train_model, edge_model), "branch_table": table,
            "equivalence": dict(equivalence), "timing": dict(timing)}
