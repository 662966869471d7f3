"""The state of a training run that a resume restores: learning-rate schedule, EMA weights, RNG states.

- :func:`cosine_factor` and :func:`warmup_cosine`: the learning-rate factor (linear warm-up, then
  cosine decay to a floor), used by training and by pruning's fine-tuning alike.
- :class:`ModelEMA`: exponential moving average of the weights, decay warmed up as in timm.
- :func:`rng_state` / :func:`set_rng_state`: Python, NumPy, torch (and CUDA) RNG states as tensors and
  lists, so that ``train_state.pt`` loads with ``weights_only=True``; :func:`read_state` reads one.
"""
from __future__ import annotations

import copy
import math
import random
from pathlib import Path
from typing import Any, Callable, Dict

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.weights import load_weights_only
from slimrlfn.core.errors import UserError

__all__ = ["STATE_KIND", "ModelEMA", "cosine_factor", "read_state", "rng_state", "seed_everything",
           "set_rng_state", "warmup_cosine"]

#: The ``kind`` entry of every ``train_state.pt``.
STATE_KIND = "slimrlfn-train-state"


def cosine_factor(progress: float, floor: float) -> float:
    """Cosine decay from 1 (``progress`` 0) to ``floor`` (``progress`` >= 1)."""
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def warmup_cosine(iterations: int, warmup: int, lr: float, min_lr: float) -> Callable[[int], float]:
    """Factor of ``lr`` at step ``t``: linear warm-up to 1 over ``warmup`` steps, then cosine to ``min_lr``."""
    floor = min_lr / lr

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        span = max(1, iterations - warmup)
        return cosine_factor((step - warmup) / span, floor)

    return factor


class ModelEMA:
    """Exponential moving average of a model's floating-point state; decay warms up as in timm."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.module = copy.deepcopy(model).eval()
        for param in self.module.parameters():
            param.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for ema, value in zip(self.module.state_dict().values(), model.state_dict().values()):
            if ema.dtype.is_floating_point:
                ema.mul_(decay).add_(value.detach(), alpha=1.0 - decay)
            else:
                ema.copy_(value)

    def state_dict(self) -> Dict[str, Any]:
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"], strict=True)
        self.updates = int(state["updates"])


def rng_state(device: torch.device) -> Dict[str, Any]:
    """Python, NumPy, torch (and CUDA) RNG states as tensors and lists (``weights_only``-safe)."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    state = {
        "python": [py_state[0], list(py_state[1]), py_state[2]],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), int(np_state[2]),
                  int(np_state[3]), float(np_state[4])],
        "torch": torch.get_rng_state(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: Dict[str, Any], device: torch.device) -> None:
    version, values, gauss = state["python"]
    random.setstate((version, tuple(values), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def read_state(path: Path) -> Dict[str, Any]:
    """A ``train_state.pt`` read with ``weights_only=True``; UserError for a missing, corrupt or foreign file."""
    state = load_weights_only(path, "--resume")
    if not isinstance(state, dict) or state.get("kind") != STATE_KIND:
        raise UserError(f"--resume {path}: not a training state written by slimrlfn train (a train_state.pt); "
                        f"to start from deploy weights use --init")
    return state
