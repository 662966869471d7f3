"""Reparameterizable SRLFB and the train-time SlimRLFN (SlimRLFN, NTIRE 2024 ESR team 21).

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
exact up to floating-point rounding everywhere.

- :func:`build_train_model`: a train-time model from a deploy config of :mod:`slimrlfn.models`
  (outer structure and key names of the non-block parts as ``SlimRLFN``).
- :func:`from_deploy`: a train-time model whose output equals a given deploy model's (its 3x3
  weights go into the ``3x3`` branch, minus the identity; the other branches start at zero output).
- :func:`reparameterize`: folds every :class:`RepConv3x3` into a plain ``nn.Conv2d``, in place,
  idempotent; afterwards the ``state_dict`` loads with ``strict=True`` into ``SlimRLFN``.
- :func:`export_deploy`: a deploy ``SlimRLFN`` with the fused weights (the input model is untouched).
- ``online_fusion=True`` makes a :class:`RepConv3x3` compute its fused kernel (differentiably) on
  every forward and run one conv: the same function of input and parameters, hence the same
  gradients, at close to deploy speed (the idea of OREPA, Hu et al., CVPR 2022, without its BN).
"""
from __future__ import annotations

import copy
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .devices import synchronize
from .models import ESA, PixelShufflePack, SlimRLFN, build_model, config_of, validate_config

__all__ = [
    "REP_DEFAULTS",
    "RepConv3x3",
    "RepRLFB",
    "RepSlimRLFN",
    "branch_table",
    "build_train_model",
    "deploy_config_of",
    "export_deploy",
    "equivalence_check",
    "forward_time_comparison",
    "forward_times_ms",
    "from_deploy",
    "is_reparameterized",
    "rep_options_of",
    "reparameterize",
    "validate_rep_options",
]

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


class RepRLFB(nn.Module):
    """The SRLFB of SlimRLFN at train time: ``c1_r``, ``c2_r``, ``c3_r`` are :class:`RepConv3x3`.

    Same forward and key names as :class:`slimrlfn.models.RLFB`; (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(
        self,
        channels: int,
        inner_channels: Sequence[int],
        esa_channels: int = 16,
        use_conv_f: bool = False,
        **rep: Any,
    ) -> None:
        super().__init__()
        mid1, mid2 = int(inner_channels[0]), int(inner_channels[1])
        self.c1_r = RepConv3x3(channels, mid1, **rep)
        self.c2_r = RepConv3x3(mid1, mid2, **rep)
        self.c3_r = RepConv3x3(mid2, channels, **rep)
        self.c5 = nn.Conv2d(channels, channels, 1)
        self.esa = ESA(esa_channels, channels, use_conv_f=use_conv_f)
        self.act = nn.LeakyReLU(negative_slope=0.05, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.c1_r(x))
        out = self.act(self.c2_r(out))
        out = self.act(self.c3_r(out))
        out = out + x
        return self.esa(self.c5(out))


class RepSlimRLFN(nn.Module):
    """Train-time SlimRLFN: :class:`RepRLFB` blocks, the rest as ``slimrlfn.models.SlimRLFN``.

    Non-block keys (``conv_1``, ``block_list.i.c5``, ``block_list.i.esa.*``, ``conv_2``,
    ``upsampler.upsample_conv``) are the official ones. ``rep`` holds :data:`REP_DEFAULTS` keys.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        feature_channels: int = 30,
        num_blocks: int = 6,
        prune_channels: Optional[Sequence[int]] = None,
        esa_channels: Union[int, Sequence[int]] = 16,
        upscale: int = 4,
        rep: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__()
        self.rep_options = validate_rep_options(rep or {})
        if prune_channels is None:
            prune_channels = [feature_channels] * (2 * num_blocks)
        esa = [esa_channels] * num_blocks if isinstance(esa_channels, int) else [int(w) for w in esa_channels]
        self.num_blocks = num_blocks
        self.conv_1 = nn.Conv2d(in_channels, feature_channels, 3, padding=1)
        self.block_list = nn.ModuleList(
            RepRLFB(feature_channels, prune_channels[2 * i:2 * i + 2], esa[i], use_conv_f=False, **self.rep_options)
            for i in range(num_blocks)
        )
        self.conv_2 = nn.Conv2d(feature_channels, feature_channels, 3, padding=1)
        self.upsampler = PixelShufflePack(feature_channels, out_channels, upscale, upsample_kernel=3)

    def blocks(self) -> List[RepRLFB]:
        """The blocks in forward order."""
        return list(self.block_list)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_feature = self.conv_1(x)
        out = out_feature
        for block in self.block_list:
            out = block(out)
        return self.upsampler(self.conv_2(out) + out_feature)


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


def build_train_model(config: Dict[str, Any], rep: Optional[Dict[str, Any]] = None) -> RepSlimRLFN:
    """A train-time model (random weights) for the deploy config ``config`` (arch 'slimrlfn')."""
    config = validate_config(config)
    if config["arch"] != "slimrlfn":
        raise ValueError(f"reparameterizable training is implemented for arch 'slimrlfn', got {config['arch']!r}")
    kwargs = {k: v for k, v in config.items() if k != "arch"}
    return RepSlimRLFN(**kwargs, rep=rep)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if hasattr(model, "module") and isinstance(model.module, nn.Module) else model


def deploy_config_of(model: nn.Module) -> Dict[str, Any]:
    """The deploy config (:mod:`slimrlfn.models`) of a train-time, fused or deploy model."""
    model = _unwrap(model)
    if not isinstance(model, RepSlimRLFN):
        return config_of(model)
    up_conv = model.upsampler.upsample_conv
    scale = model.upsampler.scale_factor
    prune_channels: List[int] = []
    for block in model.blocks():
        prune_channels += [block.c1_r.out_channels, block.c2_r.out_channels]
    esa = [block.esa.conv1.out_channels for block in model.blocks()]
    return validate_config({
        "arch": "slimrlfn",
        "in_channels": model.conv_1.in_channels,
        "out_channels": up_conv.out_channels // (scale * scale),
        "feature_channels": model.conv_1.out_channels,
        "num_blocks": len(model.blocks()),
        "prune_channels": prune_channels,
        "esa_channels": esa[0] if len(set(esa)) == 1 else esa,  # one per block after ESA pruning
        "upscale": scale,
    })


def rep_options_of(model: nn.Module) -> Dict[str, Any]:
    """The branch options a train-time model was built with."""
    model = _unwrap(model)
    if not isinstance(model, RepSlimRLFN):
        raise TypeError(f"not a train-time RepSlimRLFN: {type(model).__name__}")
    return dict(model.rep_options)


@torch.no_grad()
def from_deploy(deploy: nn.Module, rep: Optional[Dict[str, Any]] = None) -> RepSlimRLFN:
    """A train-time model with the same output as the deploy ``SlimRLFN`` ``deploy`` (any widths).

    Non-block weights are copied by key; each block conv goes in through
    :meth:`RepConv3x3.load_plain`. Same device and dtype as ``deploy``.
    """
    deploy = _unwrap(deploy)
    if not isinstance(deploy, SlimRLFN):
        raise TypeError(f"from_deploy expects a deploy slimrlfn.models.SlimRLFN, got {type(deploy).__name__}")
    reference = next(deploy.parameters())
    model = build_train_model(config_of(deploy), rep).to(device=reference.device, dtype=reference.dtype)
    source = deploy.state_dict()
    own = model.state_dict()
    for key, value in source.items():
        if not any(f".{name}." in key for name in ("c1_r", "c2_r", "c3_r")):
            own[key].copy_(value)  # same config, so the same keys and shapes
    for i, block in enumerate(model.blocks()):
        for name in ("c1_r", "c2_r", "c3_r"):
            getattr(block, name).load_plain(source[f"block_list.{i}.{name}.weight"],
                                            source[f"block_list.{i}.{name}.bias"])
    return model.train(deploy.training)


@torch.no_grad()
def reparameterize(model: nn.Module) -> nn.Module:
    """Replace every :class:`RepConv3x3` inside ``model`` by its fused ``nn.Conv2d``; in place.

    Idempotent (a fused model has nothing left to fold). Returns ``model``. Afterwards a
    :class:`RepSlimRLFN`'s ``state_dict`` has exactly the keys and shapes of ``SlimRLFN``.
    """
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, RepConv3x3):
                setattr(parent, name, child.to_conv())
    return model


def is_reparameterized(model: nn.Module) -> bool:
    """True when no :class:`RepConv3x3` is left in ``model``."""
    return not any(isinstance(m, RepConv3x3) for m in model.modules())


@torch.no_grad()
def export_deploy(model: nn.Module) -> SlimRLFN:
    """A deploy ``SlimRLFN`` (eval mode, same device and dtype) equal to ``model``; ``model`` is untouched.

    Accepts a train-time model (fused or not, possibly wrapped in DDP) or a deploy model.
    """
    model = _unwrap(model)
    reference = next(model.parameters())
    fused = reparameterize(copy.deepcopy(model))
    deploy = build_model(deploy_config_of(model)).to(device=reference.device, dtype=reference.dtype)
    deploy.load_state_dict(fused.state_dict(), strict=True)
    return deploy.eval()


def _count(module: Optional[nn.Module]) -> int:
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def branch_table(model: nn.Module) -> List[Dict[str, Any]]:
    """One row per :class:`RepConv3x3`: name, widths, branches, train-time and fused parameters."""
    rows = []
    for name, module in _unwrap(model).named_modules():
        if isinstance(module, RepConv3x3):
            fused = module.in_channels * module.out_channels * 9 + module.out_channels
            per_branch = {"3x3": _count(module.conv3x3), "1x1": _count(module.conv1x1), "identity": 0,
                          "1x1-3x3": _count(module.expand_squeeze)}
            if module.edges is not None:
                per_branch.update({kind: _count(branch) for kind, branch in module.edges.items()})
            rows.append({"conv": name, "in": module.in_channels, "out": module.out_channels,
                         "branches": len(module.branch_names()), "branch_names": "+".join(module.branch_names()),
                         "train_params": _count(module), "deploy_params": fused,
                         **{f"params_{k}": v for k, v in per_branch.items() if k in module.branch_names()}})
    return rows


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
            train_model = copy.deepcopy(_unwrap(model)).to(device="cpu", dtype=dtype).eval()
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
    branches = copy.deepcopy(_unwrap(model)).float().to(device).eval()
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
