"""Fine-tuning after a pruning step: L1 to the HR patch + lambda x L1 to a frozen teacher, Adam, cosine decay.

As SlimRLFN (NTIRE 2024 ESR, team 21) recovers its pruned model, with distillation from the unpruned
one. The loss is :class:`slimrlfn.train.losses.SRLoss`, the step :class:`slimrlfn.train.loop.TrainStep`
and the patches come from :class:`slimrlfn.data.patches.PatchDataset` (HR crops with their
MATLAB-bicubic LR, flips and rotations; patch ``i`` is a pure function of ``(seed, i)``): the pieces
``slimrlfn train`` uses, on a plain deploy model, for a few hundred iterations, without the
train-time branches, AMP, EMA or DDP of the training command.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn

from slimrlfn.core.progress import tqdm
from slimrlfn.train.loop import TrainStep
from slimrlfn.train.losses import SRLoss
from slimrlfn.train.state import cosine_factor

__all__ = ["batch_of", "finetune"]


def batch_of(dataset: Any, first: int, size: int, device: torch.device,
             data_range: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """Items ``first .. first + size - 1`` of ``dataset`` stacked into an (LR, HR) batch on ``device``,
    in [0, ``data_range``] (the patches are in [0, 255]; divided by 255 / data_range as test_demo.py does)."""
    items = [dataset[first + i] for i in range(size)]
    lr, hr = torch.stack([lr for lr, _ in items]), torch.stack([hr for _, hr in items])
    if data_range != 255.0:
        lr, hr = lr.div(255.0 / data_range), hr.div(255.0 / data_range)
    return lr.to(device), hr.to(device)


def finetune(
    model: nn.Module,
    dataset: Any,
    teacher: Optional[nn.Module],
    iterations: int,
    batch_size: int = 16,
    lr: float = 1e-4,
    distill_weight: float = 1.0,
    device: Union[str, torch.device] = "cpu",
    first_patch: int = 0,
    max_seconds: Optional[float] = None,
    min_lr_ratio: float = 0.1,
    progress: bool = True,
    desc: str = "fine-tune",
    *,
    data_range: float,
    inference_mode: bool = False,
) -> Dict[str, Any]:
    """Fine-tune ``model`` in place: L1 to HR + ``distill_weight`` x L1 to ``teacher``, Adam, cosine decay.

    ``dataset`` item ``i`` is ``(lr, hr)`` float (3, p, p) / (3, 4p, 4p) in [0, 255]
    (:class:`slimrlfn.data.patches.PatchDataset`); iteration ``t`` uses patches
    ``first_patch + t * batch_size ..``. Stops after ``iterations`` or ``max_seconds`` (the cosine
    follows whichever is closer to its end). ``model`` and ``teacher`` take and give [0, ``data_range``].
    ``inference_mode``: train the model in ``eval()`` mode, through its inference path (a pruned model of
    :mod:`slimrlfn.prune.anymodel`, whose training branches were not pruned; BatchNorm statistics frozen).
    Returns iterations done, seconds and losses.
    """
    device = torch.device(device)
    loss_fn = SRLoss("l1", "l1", distill_weight if teacher is not None else 0.0, data_range=data_range)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    step = TrainStep(model, optimizer, loss_fn, device, teacher=teacher if distill_weight else None)
    model.train(not inference_mode)
    for param in model.parameters():  # a loaded entry comes with requires_grad off
        if param.is_floating_point():  # NNCF's quantizers also hold integer parameters (bit widths)
            param.requires_grad_(True)
    losses: List[float] = []
    begin = time.perf_counter()
    done = 0
    bar = tqdm(total=iterations if max_seconds is None else None, desc=desc, unit="it", leave=False,
               disable=not progress)
    try:
        while done < iterations:
            elapsed = time.perf_counter() - begin
            if max_seconds is not None and elapsed >= max_seconds:
                break
            frac = max(done / iterations, elapsed / max_seconds if max_seconds else 0.0)
            for group in optimizer.param_groups:
                group["lr"] = lr * cosine_factor(frac, min_lr_ratio)
            terms = step(*batch_of(dataset, first_patch + done * batch_size, batch_size, device, data_range))
            losses.append(float(terms["total"]))
            done += 1
            bar.update(1)
            if done % 10 == 0:
                bar.set_postfix(loss=f"{sum(losses[-10:]) / 10:.4f}")
    finally:
        bar.close()
        model.eval()
    tail = losses[-max(1, len(losses) // 10):] if losses else []
    return {"iterations": done, "seconds": time.perf_counter() - begin, "batch_size": batch_size, "lr": lr,
            "distill_weight": distill_weight if teacher is not None else 0.0,
            "loss_first": losses[0] if losses else None, "loss_last": sum(tail) / len(tail) if tail else None}
