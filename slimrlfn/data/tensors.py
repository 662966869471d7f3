"""RGB uint8 images <-> float tensors in [0, 255], as NTIRE's ``test_demo.py`` converts them.

``uint8_to_tensor``: (H, W, 3) uint8 -> (1, 3, H, W) float32 on a device (``uint2tensor4`` without
the division: the models of this package work in [0, 255]). ``tensor_to_uint8``: (1, 3, H, W)
float -> (H, W, 3) uint8, clamped to [0, 255] and rounded half to even (``tensor2uint``).
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["tensor_to_uint8", "uint8_to_tensor"]


def uint8_to_tensor(img: np.ndarray, device: torch.device) -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> float32 (1, 3, H, W) in [0, 255] on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().unsqueeze(0).to(device)


def tensor_to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) float in [0, 255] -> RGB uint8 (H, W, 3): clamp to [0, 255], round half to even."""
    img = tensor.detach().squeeze(0).float().clamp(0, 255).cpu().numpy()
    return np.uint8(np.transpose(img, (1, 2, 0)).round())
