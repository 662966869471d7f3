"""The reparameterizable 3x3 convolution of SlimRLFN's SRLFB (NTIRE 2024 ESR team 21): many branches, one conv.

SlimRLFN trains every 3x3 conv of its blocks (``c1_r``, ``c2_r``, ``c3_r``) as a sum of linear
branches and fuses them into one 3x3 conv for inference, after RepVGG (Ding et al., CVPR 2021) and
the edge-oriented convolution block ECB of ECBSR (Zhang et al., ACM MM 2021). Branches of a
:class:`RepConv3x3` (``in`` -> ``out`` channels):

===============  ==========================================================================
``3x3``          a plain 3x3 conv (always)
``1x1``          a 1x1 conv (``use_1x1``)
``identity``     ``x`` itself, when ``in == out`` (``use_identity``)
``1x1-3x3``      1x1 conv to ``round(expand_ratio * out)`` channels, then a 3x3 conv back to
                 ``out`` (``expand_ratio > 0``; ECB's expand-squeeze)
``sobel_x``,     1x1 conv, then a fixed 3x3 Sobel-x / Sobel-y / Laplacian mask applied per
``sobel_y``,     channel, scaled by a learnable per-channel factor plus a learnable bias
``laplacian``    (``use_edge``; ECB's edge branches)
===============  ==========================================================================

Every branch is linear in its input, so the sum is one 3x3 conv. The sequential branches pad the
output of their 1x1 conv with the 1x1 bias (as ECB does) rather than with zeros, so the fused conv
(which zero-pads the input) gives the same output at the image border too: the equivalence is
exact up to floating-point rounding everywhere. ``online_fusion=True`` computes the fused kernel
(differentiably) on every forward and runs one conv: the same function of input and parameters,
hence the same gradients, at close to deploy speed (the idea of OREPA, Hu et al., CVPR 2022,
without its BN). The model-level verbs are in :mod:`slimrlfn.arch.reparam`.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["REP_DEFAULTS", "RepConv3x3", "validate_rep_options"]

#: Branch options of every :class:`RepConv3x3` (see the module docstring).
REP_DEFAULTS: Dict[str, Any] = {
    "use_1x1": True,
    "use_identity": True,
    "expand_ratio": 2.0,
    "use_edge": False,
    "online_fusion": False,
}

_EDGE_MASKS = {
    "sobel_x": ((1.0, 0.0, -1.0), (2.0, 0.0, -2.0), (1.0, 0.0, -1.0)),
    "sobel_y": ((1.0, 2.0, 1.0), (0.0, 0.0, 0.0), (-1.0, -2.0, -1.0)),
    "laplacian": ((0.0, 1.0, 0.0), (1.0, -4.0, 1.0), (0.0, 1.0, 0.0)),
}


def _pad_with_bias(y: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Pad (N, C, H, W) by one pixel on every side with the per-channel value ``bias`` (C,)."""
    b = bias.view(1, -1, 1, 1)
    return F.pad(y - b, (1, 1, 1, 1)) + b


class _ExpandSqueeze(nn.Module):
    """1x1 conv ``in -> mid`` then 3x3 conv ``mid -> out`` (ECB's ``conv1x1-conv3x3``)."""

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int) -> None:
        super().__init__()
        self.expand = nn.Conv2d(in_channels, mid_channels, 1)
        self.squeeze = nn.Conv2d(mid_channels, out_channels, 3, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.squeeze(_pad_with_bias(self.expand(x), self.expand.bias))

    def fused(self) -> Tuple[torch.Tensor, torch.Tensor]:
        k0 = self.expand.weight[:, :, 0, 0]  # (mid, in)
        k1 = self.squeeze.weight  # (out, mid, 3, 3)
        weight = torch.einsum("omhw,mi->oihw", k1, k0)
        bias = self.squeeze.bias + torch.einsum("omhw,m->o", k1, self.expand.bias)
        return weight, bias


class _EdgeBranch(nn.Module):
    """1x1 conv ``in -> out``, then a fixed 3x3 mask per channel scaled by ``scale`` (ECB)."""

    def __init__(self, in_channels: int, out_channels: int, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.conv = nn.Conv2d(in_channels, out_channels, 1)
        self.scale = nn.Parameter(torch.randn(out_channels, 1, 1, 1) * 1e-3)
        self.bias = nn.Parameter(torch.randn(out_channels) * 1e-3)
        mask = torch.tensor(_EDGE_MASKS[kind]).view(1, 1, 3, 3).repeat(out_channels, 1, 1, 1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = _pad_with_bias(self.conv(x), self.conv.bias)
        return F.conv2d(y, self.scale * self.mask, self.bias, groups=self.mask.shape[0])

    def fused(self) -> Tuple[torch.Tensor, torch.Tensor]:
        k1 = (self.scale * self.mask)[:, 0]  # (out, 3, 3)
        weight = torch.einsum("ohw,oi->oihw", k1, self.conv.weight[:, :, 0, 0])
        bias = self.bias + k1.sum(dim=(1, 2)) * self.conv.bias
        return weight, bias


class RepConv3x3(nn.Module):
    """A 3x3 conv (padding 1) trained as a sum of branches; :meth:`to_conv` fuses it.

    (N, in_channels, H, W) -> (N, out_channels, H, W). ``in_channels`` / ``out_channels`` are
    attributes, as on ``nn.Conv2d``, so widths read the same off fused and unfused models.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        use_1x1: bool = True,
        use_identity: bool = True,
        expand_ratio: float = 2.0,
        use_edge: bool = False,
        online_fusion: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.online_fusion = online_fusion
        self.has_identity = bool(use_identity) and in_channels == out_channels
        self.conv3x3 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv1x1 = nn.Conv2d(in_channels, out_channels, 1) if use_1x1 else None
        mid = max(1, int(round(expand_ratio * out_channels))) if expand_ratio > 0 else 0
        self.expand_squeeze = _ExpandSqueeze(in_channels, mid, out_channels) if mid else None
        self.edges = (nn.ModuleDict({kind: _EdgeBranch(in_channels, out_channels, kind) for kind in _EDGE_MASKS})
                      if use_edge else None)

    def branch_names(self) -> List[str]:
        """The branches in the order they are summed."""
        names = ["3x3"]
        if self.conv1x1 is not None:
            names.append("1x1")
        if self.has_identity:
            names.append("identity")
        if self.expand_squeeze is not None:
            names.append("1x1-3x3")
        if self.edges is not None:
            names += list(self.edges)
        return names

    def _identity_kernel(self, like: torch.Tensor) -> torch.Tensor:
        kernel = torch.zeros_like(like)
        index = torch.arange(self.out_channels, device=like.device)
        kernel[index, index, 1, 1] = 1.0
        return kernel

    def fused_kernel(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """(weight (out, in, 3, 3), bias (out,)) of the one 3x3 conv equal to the branch sum.

        Differentiable in the branch parameters (used by ``online_fusion``).
        """
        weight, bias = self.conv3x3.weight, self.conv3x3.bias
        if self.conv1x1 is not None:
            weight = weight + F.pad(self.conv1x1.weight, (1, 1, 1, 1))
            bias = bias + self.conv1x1.bias
        if self.has_identity:
            weight = weight + self._identity_kernel(self.conv3x3.weight)
        branches = [self.expand_squeeze] if self.expand_squeeze is not None else []
        branches += list(self.edges.values()) if self.edges is not None else []
        for branch in branches:
            w, b = branch.fused()
            weight, bias = weight + w, bias + b
        return weight, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.online_fusion:
            weight, bias = self.fused_kernel()
            return F.conv2d(x, weight, bias, padding=1)
        out = self.conv3x3(x)
        if self.conv1x1 is not None:
            out = out + self.conv1x1(x)
        if self.has_identity:
            out = out + x
        if self.expand_squeeze is not None:
            out = out + self.expand_squeeze(x)
        if self.edges is not None:
            for branch in self.edges.values():
                out = out + branch(x)
        return out

    @torch.no_grad()
    def to_conv(self) -> nn.Conv2d:
        """A plain 3x3 ``nn.Conv2d`` (same device and dtype) with the fused weights."""
        weight, bias = self.fused_kernel()
        conv = nn.Conv2d(self.in_channels, self.out_channels, 3, padding=1,
                         device=weight.device, dtype=weight.dtype)
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
        conv.weight.requires_grad_(self.conv3x3.weight.requires_grad)
        conv.bias.requires_grad_(self.conv3x3.bias.requires_grad)
        return conv

    @torch.no_grad()
    def load_plain(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Make this conv equal to a plain 3x3 conv ``(weight, bias)``: every other branch gives 0.

        The ``3x3`` branch takes ``weight`` minus the identity kernel; ``1x1`` is zeroed; the
        sequential branches zero their last stage (``squeeze``; edge ``scale`` and ``bias``), so
        their first stage keeps its random init and gradients reach it once the last stage moves.
        """
        self.conv3x3.weight.copy_(weight - (self._identity_kernel(weight) if self.has_identity else 0.0))
        self.conv3x3.bias.copy_(bias)
        if self.conv1x1 is not None:
            self.conv1x1.weight.zero_()
            self.conv1x1.bias.zero_()
        if self.expand_squeeze is not None:
            self.expand_squeeze.squeeze.weight.zero_()
            self.expand_squeeze.squeeze.bias.zero_()
        if self.edges is not None:
            for branch in self.edges.values():
                branch.scale.zero_()
                branch.bias.zero_()

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, branches={'+'.join(self.branch_names())}"



def validate_rep_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """:data:`REP_DEFAULTS` updated with ``options``; ValueError with one line on a bad key or value."""
    unknown = sorted(set(options) - set(REP_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown reparameterization options {unknown}; expected a subset of {list(REP_DEFAULTS)}")
    full = dict(REP_DEFAULTS)
    full.update(options)
    for key in ("use_1x1", "use_identity", "use_edge", "online_fusion"):
        if not isinstance(full[key], bool):
            raise ValueError(f"reparameterization option {key!r} must be true or false, got {full[key]!r}")
    ratio = full["expand_ratio"]
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio < 0:
        raise ValueError(f"reparameterization option 'expand_ratio' must be a number >= 0 (0: no 1x1-3x3 "
                         f"branch), got {ratio!r}")
    full["expand_ratio"] = float(ratio)
    return full
