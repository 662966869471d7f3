"""Training on several devices, and stopping it cleanly: torchrun's environment, Ctrl-C, replicas.

- :func:`init_distributed` reads torchrun's ``WORLD_SIZE`` / ``RANK`` / ``LOCAL_RANK`` and
  initialises NCCL (CUDA) or Gloo (CPU) when there is more than one process.
- :class:`Interrupts`: while active, the first Ctrl-C only sets ``requested`` (the loop saves and
  stops after the current step); :func:`ignore_sigint` is the DataLoader workers' ``worker_init_fn``.
- :func:`replica_max_abs_diff`: the largest difference between the ranks' copies of the weights.
"""
from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass
from typing import Any, Optional

import torch
import torch.distributed as dist
import torch.nn as nn

from slimrlfn.core.devices import resolve_device

__all__ = ["DistEnv", "Interrupts", "ignore_sigint", "init_distributed", "replica_max_abs_diff"]


@dataclass
class DistEnv:
    """Where this process trains: its rank among ``world_size`` (torchrun), its device, whether it set up a group."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialised: bool = False

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device_name: str) -> DistEnv:
    """Read torchrun's environment; initialise NCCL (CUDA) or Gloo (CPU) when WORLD_SIZE > 1."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistEnv(device=resolve_device(device_name))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    wanted = (device_name or "auto").lower()
    use_cuda = wanted != "cpu" and torch.cuda.is_available()
    if wanted.startswith("cuda") and not use_cuda:
        resolve_device(wanted)  # raises the usual one-line error
    if use_cuda:
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return DistEnv(rank, world_size, local_rank, device, True)


class Interrupts:
    """While active, the first Ctrl-C only sets ``requested`` (the loop saves and stops)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame) -> None:  # noqa: ARG002 (signal API)
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "Interrupts":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def ignore_sigint(worker_id: int) -> None:  # noqa: ARG001 (DataLoader API)
    """DataLoader workers leave Ctrl-C to the main process, which stops after the current step."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def replica_max_abs_diff(model: nn.Module, env: DistEnv) -> Optional[float]:
    """Largest |difference| between the ranks' parameters (None on one process); every rank must call it."""
    if env.world_size <= 1:
        return None
    flat = torch.cat([p.detach().float().reshape(-1) for p in model.parameters()])
    high, low = flat.clone(), flat.clone()
    dist.all_reduce(high, op=dist.ReduceOp.MAX)
    dist.all_reduce(low, op=dist.ReduceOp.MIN)
    return float((high - low).abs().max())
