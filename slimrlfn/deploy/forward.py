"""One SR forward of a whole image, or of overlapping tiles (``test_demo.py``'s ``tile`` option).

``forward_image(model, lr)``: (1, 3, H, W) -> (1, 3, sH, sW), values as the model gives them
(float, [0, 255] for this package's models). With ``tile``, the LR is cut into ``tile`` x ``tile``
windows overlapping by ``tile_overlap`` pixels; their SR outputs are averaged where they overlap.
``model`` is any callable: a network or an inference path of :mod:`slimrlfn.deploy.backends`.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch

__all__ = ["forward_image"]


def forward_image(model: Callable[[torch.Tensor], torch.Tensor], lr: torch.Tensor, tile: Optional[int] = None,
                  tile_overlap: int = 32, scale: int = 4) -> torch.Tensor:
    """SR of (1, 3, H, W): whole image, or overlapping ``tile`` x ``tile`` LR tiles averaged."""
    if tile is None:
        return model(lr)
    b, c, h, w = lr.size()
    tile = min(tile, h, w)
    stride = max(tile - tile_overlap, 1)
    h_starts = list(range(0, h - tile, stride)) + [h - tile]
    w_starts = list(range(0, w - tile, stride)) + [w - tile]
    out = torch.zeros(b, c, h * scale, w * scale, dtype=lr.dtype, device=lr.device)
    weight = torch.zeros_like(out)
    for top in h_starts:
        for left in w_starts:
            patch = model(lr[..., top:top + tile, left:left + tile])
            out[..., top * scale:(top + tile) * scale, left * scale:(left + tile) * scale].add_(patch)
            weight[..., top * scale:(top + tile) * scale, left * scale:(left + tile) * scale].add_(1)
    return out.div_(weight)
