"""RLFN (NTIRE 2024 ESR baseline) and SlimRLFN (NTIRE 2024 ESR, team 21), deploy form.

Follows the official model files of the NTIRE 2024 Efficient SR challenge
(`models/team00_RLFN.py`, `RLFN_Prune`; `models/team21_SlimRLFN.py`, `SlimRLFN`) so that the
official checkpoints load with ``strict=True`` and give the same outputs.

Both networks map an RGB image tensor of shape (N, 3, H, W), values in [0, 255], to
(N, 3, 4H, 4W) in [0, 255] (not clamped). The ESA branch needs H, W >= 15 (see
:data:`MIN_INPUT_SIZE`).

``esa_channels`` is one width for every block (as in the official files) or, after structured
pruning (:mod:`slimrlfn.prune`), a list with one width per block. The train-time form
(:mod:`slimrlfn.arch.reparam`) reuses these classes: :class:`RLFB` takes the factory of its three
3x3 convs and :class:`SlimRLFN` the factory of its blocks. Configs (architectures as data) are in
:mod:`slimrlfn.arch.config`.

File order: leaf layers (ESA, upsampler), block, networks.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["MIN_INPUT_SIZE", "ESA", "PixelShufflePack", "RLFB", "RLFN", "SlimRLFN", "conv3x3", "esa_widths"]

#: Smallest LR side (pixels) the ESA branch accepts: conv2 (3x3, stride 2, no padding)
#: followed by max-pool 7 / stride 3 needs ((H - 3) // 2 + 1) >= 7, i.e. H >= 15.
MIN_INPUT_SIZE = 15


class ESA(nn.Module):
    """Enhanced Spatial Attention as used in RLFN (with ``conv_f``) and SlimRLFN (without).

    Input and output (N, n_feats, H, W); H, W >= 15. The output is ``x * sigmoid(mask)``.
    """

    def __init__(
        self,
        esa_channels: int = 16,
        n_feats: int = 30,
        use_conv_f: bool = False,
    ) -> None:
        super().__init__()
        self.use_conv_f = use_conv_f
        self.conv1 = nn.Conv2d(n_feats, esa_channels, kernel_size=1)
        if use_conv_f:
            self.conv_f = nn.Conv2d(esa_channels, esa_channels, kernel_size=1)
        self.conv2 = nn.Conv2d(esa_channels, esa_channels, kernel_size=3, stride=2, padding=0)
        self.conv3 = nn.Conv2d(esa_channels, esa_channels, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(esa_channels, n_feats, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c1_ = self.conv1(x)
        c1 = self.conv2(c1_)
        v_max = F.max_pool2d(c1, kernel_size=7, stride=3)
        c3 = self.conv3(v_max)
        c3 = F.interpolate(c3, (x.size(2), x.size(3)), mode="bilinear", align_corners=False)
        skip = self.conv_f(c1_) if self.use_conv_f else c1_
        c4 = self.conv4(c3 + skip)
        return x * self.sigmoid(c4)


class PixelShufflePack(nn.Module):
    """SlimRLFN's upsampler: 3x3 conv to out_channels * scale^2, then pixel shuffle.

    (N, in_channels, H, W) -> (N, out_channels, scale*H, scale*W). Key: ``upsample_conv``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale_factor: int,
        upsample_kernel: int = 3,
    ) -> None:
        super().__init__()
        self.scale_factor = scale_factor
        self.upsample_conv = nn.Conv2d(
            in_channels,
            out_channels * scale_factor * scale_factor,
            upsample_kernel,
            padding=(upsample_kernel - 1) // 2,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.upsample_conv(x), self.scale_factor)


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """A plain 3x3 convolution with padding 1: (N, in, H, W) -> (N, out, H, W)."""
    return nn.Conv2d(in_channels, out_channels, 3, padding=1)


class RLFB(nn.Module):
    """Residual Local Feature Block with per-block inner widths (``prune_channels``).

    (N, channels, H, W) -> (N, channels, H, W). ``inner_channels = (c1_r out, c2_r out)``.
    ``conv`` builds ``c1_r``, ``c2_r`` and ``c3_r`` from (in, out) channels: a plain 3x3 conv
    here, a reparameterizable one at train time.
    """

    def __init__(
        self,
        channels: int,
        inner_channels: Sequence[int],
        esa_channels: int = 16,
        use_conv_f: bool = False,
        conv: Callable[[int, int], nn.Module] = conv3x3,
    ) -> None:
        super().__init__()
        mid1, mid2 = int(inner_channels[0]), int(inner_channels[1])
        self.c1_r = conv(channels, mid1)
        self.c2_r = conv(mid1, mid2)
        self.c3_r = conv(mid2, channels)
        self.c5 = nn.Conv2d(channels, channels, 1)
        self.esa = ESA(esa_channels, channels, use_conv_f=use_conv_f)
        self.act = nn.LeakyReLU(negative_slope=0.05, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.c1_r(x))
        out = self.act(self.c2_r(out))
        out = self.act(self.c3_r(out))
        out = out + x
        return self.esa(self.c5(out))


class RLFN(nn.Module):
    """RLFN as the NTIRE 2024 baseline ``RLFN_Prune`` (46 features, 48 mid channels, 4 blocks).

    Blocks are attributes ``block_1 .. block_N``; ESA has ``conv_f``; the upsampler is
    ``upsampler.0`` (conv) + ``upsampler.1`` (pixel shuffle), as in the official checkpoint.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        feature_channels: int = 46,
        num_blocks: int = 4,
        prune_channels: Optional[Sequence[int]] = None,
        esa_channels: Union[int, Sequence[int]] = 16,
        upscale: int = 4,
    ) -> None:
        super().__init__()
        if prune_channels is None:
            prune_channels = [48] * (2 * num_blocks)
        esa = esa_widths(esa_channels, num_blocks)
        self.num_blocks = num_blocks
        self.conv_1 = nn.Conv2d(in_channels, feature_channels, 3, padding=1)
        for i in range(num_blocks):
            block = RLFB(feature_channels, prune_channels[2 * i:2 * i + 2], esa[i], use_conv_f=True)
            setattr(self, f"block_{i + 1}", block)
        self.conv_2 = nn.Conv2d(feature_channels, feature_channels, 3, padding=1)
        self.upsampler = nn.Sequential(
            nn.Conv2d(feature_channels, out_channels * upscale * upscale, 3, padding=1),
            nn.PixelShuffle(upscale),
        )

    def blocks(self) -> List[nn.Module]:
        """The blocks in forward order."""
        return [getattr(self, f"block_{i + 1}") for i in range(self.num_blocks)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_feature = self.conv_1(x)
        out = out_feature
        for block in self.blocks():
            out = block(out)
        return self.upsampler(self.conv_2(out) + out_feature)


class SlimRLFN(nn.Module):
    """SlimRLFN (30 features, 6 blocks, ESA without ``conv_f``), with per-block ``prune_channels``.

    Blocks are ``block_list.0 .. block_list.N-1``; the upsampler is ``upsampler.upsample_conv``.
    The official SlimRLFN-prune uses ``prune_channels = [28] * 10 + [30, 30]``. ``block`` builds
    each block from ``(channels, inner_channels, esa_channels, use_conv_f=False)``.
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
        block: Callable[..., nn.Module] = RLFB,
    ) -> None:
        super().__init__()
        if prune_channels is None:
            prune_channels = [feature_channels] * (2 * num_blocks)
        esa = esa_widths(esa_channels, num_blocks)
        self.num_blocks = num_blocks
        self.conv_1 = nn.Conv2d(in_channels, feature_channels, 3, padding=1)
        self.block_list = nn.ModuleList(
            block(feature_channels, prune_channels[2 * i:2 * i + 2], esa[i], use_conv_f=False)
            for i in range(num_blocks)
        )
        self.conv_2 = nn.Conv2d(feature_channels, feature_channels, 3, padding=1)
        self.upsampler = PixelShufflePack(feature_channels, out_channels, upscale, upsample_kernel=3)

    def blocks(self) -> List[nn.Module]:
        """The blocks in forward order."""
        return list(self.block_list)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_feature = self.conv_1(x)
        out = out_feature
        for block in self.block_list:
            out = block(out)
        return self.upsampler(self.conv_2(out) + out_feature)


def esa_widths(esa_channels: Union[int, Sequence[int]], num_blocks: int) -> List[int]:
    """The ESA width of every block: ``esa_channels`` repeated (an int) or checked (a list of ``num_blocks``)."""
    if isinstance(esa_channels, int):
        return [esa_channels] * num_blocks
    widths = [int(w) for w in esa_channels]
    if len(widths) != num_blocks:
        raise ValueError(f"esa_channels lists {len(widths)} widths for {num_blocks} blocks")
    return widths
