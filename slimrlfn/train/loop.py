"""The one optimisation step of every training in the workbook: forward, loss with the teacher's output, update.

``slimrlfn train`` (reparameterizable SlimRLFN, AMP, gradient clipping, a scheduler, EMA, DDP) and
pruning's fine-tuning after each step (:mod:`slimrlfn.train.finetune`: a plain deploy model, no
AMP) both run :class:`TrainStep`. One step: the batch to the device; under autocast (when
``amp_dtype`` is given) the student's SR and, without gradients, the frozen teacher's; the loss
(:class:`slimrlfn.train.losses.SRLoss`, in float32); backward through the gradient scaler; optional
clipping of the gradient norm; the optimiser step; then the scheduler and the EMA.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import torch
import torch.nn as nn

__all__ = ["TrainStep"]


class TrainStep:
    """``step(lr, hr) -> loss terms`` (detached 0-d tensors) for batches (N, 3, p, p) / (N, 3, sp, sp) in [0, 255].

    ``net`` is what is called (the model, or its ``DistributedDataParallel`` wrapper); ``model`` owns
    the parameters (clipping, EMA). ``scaler`` is a ``torch.amp.GradScaler`` (None: a plain
    ``backward``); ``amp_dtype`` the autocast dtype (None: no autocast); ``grad_clip`` the largest
    gradient norm (0: no clipping); ``scheduler`` steps after every update; ``ema`` has ``update(model)``.
    """

    def __init__(
        self,
        net: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: nn.Module,
        device: torch.device,
        teacher: Optional[nn.Module] = None,
        model: Optional[nn.Module] = None,
        scaler: Optional[Any] = None,
        amp_dtype: Optional[torch.dtype] = None,
        grad_clip: float = 0.0,
        scheduler: Optional[Any] = None,
        ema: Optional[Any] = None,
    ) -> None:
        self.net, self.optimizer, self.loss_fn, self.device = net, optimizer, loss_fn, torch.device(device)
        self.teacher, self.model = teacher, model if model is not None else net
        self.scaler, self.amp_dtype, self.grad_clip = scaler, amp_dtype, grad_clip
        self.scheduler, self.ema = scheduler, ema

    def __call__(self, lr: torch.Tensor, hr: torch.Tensor) -> Dict[str, torch.Tensor]:
        lr = lr.to(self.device, non_blocking=True)
        hr = hr.to(self.device, non_blocking=True)
        with torch.autocast(device_type=self.device.type, dtype=self.amp_dtype or torch.bfloat16,
                            enabled=self.amp_dtype is not None):
            sr = self.net(lr)
            teacher_sr = None
            if self.teacher is not None:
                with torch.no_grad():
                    teacher_sr = self.teacher(lr)
        loss, terms = self.loss_fn(sr, hr, teacher_sr)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()
        if self.grad_clip > 0:
            if self.scaler is not None:
                self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        if self.ema is not None:
            self.ema.update(self.model)
        return terms
