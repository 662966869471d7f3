"""Pixel losses and distillation to a frozen teacher, as SlimRLFN trains (NTIRE 2024 ESR, team 21).

Losses compare images scaled to [0, 1] (the workbook's networks work in [0, 255], others in [0, 1];
:class:`SRLoss` divides by that ``data_range`` first), so the Charbonnier ``eps`` is in [0, 1] units as in BasicSR's ``CharbonnierLoss``.

- ``l1``: mean |a - b|; ``l2``: mean (a - b)^2; ``charbonnier``: mean sqrt((a - b)^2 + eps^2).
- Distillation (knowledge distillation on outputs, as RLFN's and SlimRLFN's teams used it):
  ``loss = pixel(sr, hr) + distill_weight * distill(sr, teacher(lr))`` with a frozen teacher in
  eval mode, run without gradients. The teacher is any model reference (``rlfn`` by default, a checkpoint, a
  class, a challenge entry), loaded by :func:`slimrlfn.arch.ref.load_model`. A teacher of another range than
  the student's runs through a :class:`~slimrlfn.arch.contract.RangeAdapter`: a [0, 1] teacher distilling into
  SlimRLFN ([0, 255]) sees its inputs divided by 255 and gives its outputs times 255.

The losses are a table, :data:`LOSSES` (name -> factory of the ``nn.Module``).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Tuple

import torch
import torch.nn as nn

from slimrlfn.arch.contract import Contract, RangeAdapter
from slimrlfn.arch.ref import load_model
from slimrlfn.core.errors import UserError

__all__ = ["LOSSES", "CharbonnierLoss", "SRLoss", "build_loss", "load_teacher"]


class CharbonnierLoss(nn.Module):
    """mean(sqrt((a - b)^2 + eps^2)), a differentiable L1 (Lai et al., LapSRN)."""

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.sqrt((a - b) ** 2 + self.eps ** 2).mean()


#: Loss name -> factory (``eps``: the Charbonnier epsilon in [0, 1] units) of the loss module.
LOSSES: Dict[str, Callable[[float], nn.Module]] = {
    "l1": lambda eps: nn.L1Loss(),
    "charbonnier": CharbonnierLoss,
    "l2": lambda eps: nn.MSELoss(),
}


def build_loss(name: str, eps: float = 1e-3, what: str = "--loss") -> nn.Module:
    """The loss called ``name`` (one of :data:`LOSSES`); UserError naming the choices otherwise."""
    key = str(name).lower()
    if key not in LOSSES:
        raise UserError(f"{what} {name!r}: unknown loss; expected one of {', '.join(LOSSES)}")
    return LOSSES[key](eps)


def load_teacher(spec: Any, student: Contract, device: torch.device) -> Tuple[nn.Module, str]:
    """A frozen teacher (eval mode, no gradients, on ``device``) that takes and gives the ``student``'s range, and
    its label.

    ``spec``: any model reference (a zoo name, a checkpoint ``.pth``, ...). Raises UserError for anything else, for a
    missing file, or for a teacher of another scale.
    """
    source = load_model(spec, "--teacher", noun="teacher", alternatives=", or none")
    label = source.label if source.kind == "zoo" else str(spec)
    if source.scale != student.scale:
        raise UserError(f"--teacher {spec}: upscales x{source.scale}, the student x{student.scale}")
    model = source.model.to(device).eval()
    for param in model.parameters():
        param.requires_grad_(False)
    if source.data_range != student.data_range:
        model = RangeAdapter(model, source.data_range, student.data_range)
    return model, label


class SRLoss(nn.Module):
    """``pixel(sr, hr) + distill_weight * distill(sr, teacher_sr)`` on images in [0, ``data_range``].

    :meth:`forward` returns ``(total, terms)``; ``terms`` holds the detached parts (0-d tensors) for logging.
    """

    def __init__(
        self,
        pixel: str = "l1",
        distill: Optional[str] = None,
        distill_weight: float = 0.0,
        eps: float = 1e-3,
        *,
        data_range: float,
    ) -> None:
        super().__init__()
        self.data_range = float(data_range)
        self.pixel = build_loss(pixel, eps)
        self.distill = build_loss(distill or pixel, eps, what="--distill_loss")
        self.distill_weight = float(distill_weight)

    def forward(self, sr: torch.Tensor, hr: torch.Tensor,
                teacher_sr: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        sr = sr.float() / self.data_range
        pixel = self.pixel(sr, hr.float() / self.data_range)
        terms = {"pixel": pixel.detach()}
        total = pixel
        if teacher_sr is not None and self.distill_weight:
            distill = self.distill(sr, teacher_sr.float() / self.data_range)
            terms["distill"] = distill.detach()
            total = total + self.distill_weight * distill
        terms["total"] = total.detach()
        return total, terms
