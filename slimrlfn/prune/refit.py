"""Least-squares refit after a cut: every convolution re-solved so that the pruned network's layer outputs match
the unpruned network's.

Follows the reconstruction step of channel pruning (He et al., "Channel Pruning for Accelerating Very Deep
Neural Networks", ICCV 2017; Luo et al., "ThiNet", ICCV 2017): after channels are removed, the next layer's
filters are re-solved by linear least squares so that the layer's output on real inputs stays what it was. Here
all convolutions of the network are refit one after another in forward order, each on the inputs the already
refit layers before it give (so the error of one layer is corrected by the next), against the output of the same
layer of the unpruned network on the same LR patches.

It works on the *masked* network (:func:`slimrlfn.prune.groups.mask_model`: the unpruned architecture with the
removed channels' producing filters and biases at zero), which computes exactly what the physically smaller one
computes: a removed input channel is zero on every patch, so its weights come out zero, and a removed output
channel keeps its zero filter. The refit masked network is then cut with the same removal
(:func:`slimrlfn.prune.groups.prune_model`), an exact surgery.

Each convolution (groups 1, any kernel, stride, padding) is a linear map of its unfolded input; its weights and
bias are the ridge solution ``(X^T X + ridge * diag(X^T X))^-1 X^T Y`` (the bias column not penalised),
summed in float32 within a batch and in float64 over the batches,
with ``X`` (rows: output positions, columns: input channels x kernel taps + 1) and ``Y`` the unpruned layer's
output (before any activation) at those positions. A layer whose refit fits its patches no better than its
current weights keeps them, so no layer's error on the refit patches grows.
"""
from __future__ import annotations

import copy
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from slimrlfn.prune.groups import Removal, mask_model, prune_model

__all__ = ["refit_convolutions", "refit_pruned"]


def _capture(model: nn.Module, name: str, lr: torch.Tensor, what: str) -> torch.Tensor:
    """The input (``what="input"``) or output of module ``name`` of ``model`` on the batch ``lr``."""
    module = dict(model.named_modules())[name]
    seen: List[torch.Tensor] = []

    def hook(_module, inputs, output):
        seen.append((inputs[0] if what == "input" else output).detach())
        raise _Captured

    handle = module.register_forward_hook(hook)
    try:
        model(lr)
    except _Captured:
        pass
    finally:
        handle.remove()
    if not seen:
        raise RuntimeError(f"{name} did not run in the forward pass")
    return seen[0]


class _Captured(Exception):
    """Stops a forward pass once the hooked layer has run (the rest is not needed)."""


def _unfold(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N * L, C * kh * kw + 1): the columns ``conv`` multiplies, with a column of ones for the bias."""
    if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise ValueError(f"refit supports explicit zero padding only, not {conv.padding_mode!r} / {conv.padding!r}")
    cols = F.unfold(x, conv.kernel_size, dilation=conv.dilation, padding=conv.padding, stride=conv.stride)
    cols = cols.transpose(1, 2).reshape(-1, cols.shape[1])
    return torch.cat([cols, torch.ones(cols.shape[0], 1, dtype=cols.dtype, device=cols.device)], dim=1)


@torch.no_grad()
def refit_convolutions(student: nn.Module, teacher: nn.Module, batches: Sequence[torch.Tensor],
                       ridge: float = 1e-4, names: Optional[Sequence[str]] = None,
                       log: Optional[Callable[[str], None]] = None) -> Dict[str, Dict[str, float]]:
    """Refit the convolutions of ``student`` in place, in forward order, to the outputs of ``teacher``'s.

    ``student`` and ``teacher`` have the same module names and convolution shapes (``student`` is a masked copy of
    ``teacher``); ``batches`` are LR tensors (N, 3, h, w) in [0, 255] (h, w >= 32, so that the ESA's pooled map is
    at least 3x3: on a 1x1 map its 3x3 convolution sees the centre tap only and the refit does not carry over to
    other sizes). ``names``: the
    convolutions to refit (default: every ``nn.Conv2d`` with ``groups == 1``, in forward order). Output channels whose
    filter and bias in ``student`` are all zero (removed ones) stay zero. Returns ``{name: {"before": mse, "after":
    mse}}``, the mean squared error of the layer output against the teacher's on ``batches`` (in output units^2).
    """
    student.eval()
    teacher.eval()
    convs = dict(student.named_modules())
    order = _forward_order(student, batches[0])
    chosen = [n for n in order if isinstance(convs[n], nn.Conv2d) and convs[n].groups == 1]
    if names is not None:
        unknown = [n for n in names if n not in chosen]
        if unknown:
            raise ValueError(f"not refittable convolutions of the model: {unknown}")
        chosen = [n for n in chosen if n in set(names)]
    report: Dict[str, Dict[str, float]] = {}
    for name in chosen:
        conv = convs[name]
        weight, bias = conv.weight, conv.bias
        removed = (weight.flatten(1).abs().sum(1) == 0) & (bias == 0 if bias is not None else True)
        columns = weight[0].numel() + 1
        gram = torch.zeros(columns, columns, dtype=torch.float64)
        cross = torch.zeros(columns, conv.out_channels, dtype=torch.float64)
        before, rows, seen = 0.0, 0, []
        for lr in batches:
            x = _capture(student, name, lr, "input")
            y = _capture(teacher, name, lr, "output")
            cols = _unfold(conv, x)
            target = y.permute(0, 2, 3, 1).reshape(-1, conv.out_channels)
            gram += (cols.T @ cols).double()  # float32 products within a batch (20x the speed of float64 here)
            cross += (cols.T @ target).double()
            before += float(((conv(x).double() - y.double()) ** 2).sum())
            rows += target.numel()
            seen.append((x, y))
        penalty = ridge * gram.diagonal().clone()
        penalty[penalty == 0] = ridge  # a column that is zero on every patch (a removed input channel) comes out 0
        penalty[-1] = 0.0  # the bias is not shrunk
        solution = torch.linalg.solve(gram + torch.diag(penalty), cross)
        solution[:, removed] = 0.0
        kept_weight, kept_bias = weight.clone(), None if bias is None else bias.clone()
        conv.weight.copy_(solution[:-1].T.reshape_as(weight).to(weight.dtype))
        if bias is not None:
            conv.bias.copy_(solution[-1].to(bias.dtype))
        after = sum(float(((conv(x).double() - y.double()) ** 2).sum()) for x, y in seen)
        if after > before:  # the fit is no better on its own patches (the ridge, or float32 rounding): keep the old
            conv.weight.copy_(kept_weight)
            if bias is not None:
                conv.bias.copy_(kept_bias)
            after = before
        report[name] = {"before": before / rows, "after": after / rows}
        if log is not None:
            log(f"refit {name}: output MSE {before / rows:.4g} -> {after / rows:.4g}")
    return report


def _forward_order(model: nn.Module, lr: torch.Tensor) -> List[str]:
    """The names of ``model``'s leaf modules in the order a forward pass on ``lr`` first calls them."""
    order: List[str] = []
    handles = []
    for name, module in model.named_modules():
        if not list(module.children()):
            handles.append(module.register_forward_pre_hook(
                lambda _m, _i, name=name: order.append(name) if name not in order else None))
    try:
        with torch.no_grad():
            model(lr)
    finally:
        for handle in handles:
            handle.remove()
    return order


def refit_pruned(model: nn.Module, removal: Removal, batches: Sequence[torch.Tensor], ridge: float = 1e-4,
                 log: Optional[Callable[[str], None]] = None) -> Tuple[nn.Module, Dict[str, Dict[str, float]]]:
    """``model`` without the channels of ``removal`` (as :func:`~slimrlfn.prune.groups.prune_model`), every
    convolution refit by least squares to ``model``'s layer outputs on ``batches``; ``model`` is untouched.

    Returns the physically smaller model and the per-layer report of :func:`refit_convolutions`.
    """
    teacher = copy.deepcopy(model).eval()
    masked = mask_model(model, removal).eval()
    report = refit_convolutions(masked, teacher, batches, ridge=ridge, log=log)
    return prune_model(masked, removal), report
