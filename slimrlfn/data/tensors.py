"""RGB uint8 images <-> float tensors in a model's range, exactly as NTIRE's ``test_demo.py`` converts them.

``uint8_to_tensor``: (H, W, 3) uint8 -> (1, 3, H, W) float32 on a device, divided by ``255 / data_range``
(``utils_image.uint2tensor4``: [0, 1] for ``data_range`` 1, unchanged [0, 255] for 255, the workbook's
own models). ``tensor_to_uint8``: (1, 3, H, W) float -> (H, W, 3) uint8: clamped to [0, data_range],
times ``255 / data_range`` in float32, rounded half to even (``utils_image.tensor2uint``).
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["tensor_to_uint8", "uint8_to_tensor"]


def uint8_to_tensor(img: np.ndarray, device: torch.device, data_range: float = 255.0) -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> float32 (1, 3, H, W) in [0, data_range] on ``device``."""
    tensor = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float()
    if data_range != 255.0:
        tensor = tensor.div(255.0 / data_range)
    return tensor.unsqueeze(0).to(device)


def tensor_to_uint8(tensor: torch.Tensor, data_range: float = 255.0) -> np.ndarray:
    """(1, 3, H, W) float in [0, data_range] -> RGB uint8 (H, W, 3): clamp, scale to [0, 255], round half to even."""
    img = tensor.detach().squeeze(0).float().clamp(0, data_range).cpu().numpy()
    img = np.transpose(img, (1, 2, 0)) * 255.0 / data_range  # float32, as test_demo.py (also for data_range 255)
    return np.uint8(img.round())
