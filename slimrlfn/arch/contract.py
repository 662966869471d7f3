"""What a model takes and gives: its value range, scale, tile and smallest input (its *contract*).

After spandrel's model descriptor: the loaded model carries its contract, so that no caller passes a loose
``data_range=255.0``. The workbook's own architectures (RLFN, SlimRLFN) take and give [0, 255]
(:data:`WORKBOOK_RANGE`), a user's class [0, 1] unless it says otherwise (:data:`CLASS_RANGE`); an NTIRE entry
says its own through ``select_model``. These two and :data:`DATA_RANGES` are the only range defaults of the
package: everything else reads the range off a :class:`Contract`.

Conversions, exactly as NTIRE's ``test_demo.py`` does them (``utils_image.uint2tensor4`` / ``tensor2uint``):

- :func:`uint8_to_tensor`: RGB uint8 (H, W, 3) -> float32 (1, 3, H, W) on a device, divided by
  ``255 / data_range`` ([0, 1] for range 1, unchanged [0, 255] for 255);
- :func:`tensor_to_uint8`: (1, 3, H, W) float -> RGB uint8 (H, W, 3): clamped to [0, data_range], times
  ``255 / data_range`` in float32, rounded half to even.

:class:`RangeAdapter` runs a model of one range as a model of another (a [0, 1] teacher distilling into a
[0, 255] student): inputs and outputs are rescaled around its forward, never inside a timed one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional, Union

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.core.errors import UserError

__all__ = ["CLASS_RANGE", "DATA_RANGES", "WORKBOOK_RANGE", "Contract", "RangeAdapter", "check_data_range",
           "tensor_to_uint8", "uint8_to_tensor"]

#: The range of the workbook's own architectures (RLFN, SlimRLFN and what is derived from them).
WORKBOOK_RANGE = 255.0
#: The range of a user's class when nothing else is said (most SR code works in [0, 1]).
CLASS_RANGE = 1.0
#: The ranges a model may take and give.
DATA_RANGES = (1.0, 255.0)


def check_data_range(value: Any, what: str = "--data_range") -> float:
    """``value`` as one of :data:`DATA_RANGES`; UserError naming ``what`` otherwise (text, NaN, 3, ...)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number not in DATA_RANGES:
        raise UserError(f"{what} {value}: expected 1 (inputs and outputs in [0, 1]) or 255 ([0, 255])")
    return number


def uint8_to_tensor(img: np.ndarray, device: torch.device, data_range: float) -> torch.Tensor:
    """RGB uint8 (H, W, 3) -> float32 (1, 3, H, W) in [0, data_range] on ``device``."""
    tensor = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float()
    if data_range != 255.0:
        tensor = tensor.div(255.0 / data_range)
    return tensor.unsqueeze(0).to(device)


def tensor_to_uint8(tensor: torch.Tensor, data_range: float) -> np.ndarray:
    """(1, 3, H, W) float in [0, data_range] -> RGB uint8 (H, W, 3): clamp, scale to [0, 255], round half to even."""
    img = tensor.detach().squeeze(0).float().clamp(0, data_range).cpu().numpy()
    img = np.transpose(img, (1, 2, 0)) * 255.0 / data_range  # float32, as test_demo.py (also for data_range 255)
    return np.uint8(img.round())


@dataclass(frozen=True)
class Contract:
    """A model's contract: values in [0, ``data_range``], output ``scale`` times the input, evaluated in LR tiles of
    ``tile`` (None: whole images), inputs at least ``min_size`` on each side."""

    data_range: float = WORKBOOK_RANGE
    scale: int = 4
    tile: Optional[int] = None
    min_size: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_range", check_data_range(self.data_range, "data_range"))

    def to_input(self, img: np.ndarray, device: Union[str, torch.device] = "cpu") -> torch.Tensor:
        """RGB uint8 (H, W, 3) -> the model's input (1, 3, H, W) on ``device``."""
        return uint8_to_tensor(img, torch.device(device), self.data_range)

    def to_uint8(self, output: torch.Tensor) -> np.ndarray:
        """The model's output (1, 3, H, W) -> RGB uint8 (H, W, 3)."""
        return tensor_to_uint8(output, self.data_range)

    def from_255(self, tensor: torch.Tensor) -> torch.Tensor:
        """A float tensor in [0, 255] (the workbook's patches) in this contract's range."""
        return tensor if self.data_range == 255.0 else tensor.div(255.0 / self.data_range)

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)


class RangeAdapter(nn.Module):
    """``model`` (of range ``inner``) used as a model of range ``outer``: ``forward(x)`` scales ``x`` from
    ``outer`` to ``inner``, runs the model, and scales its output back. ``.model`` is the wrapped network."""

    def __init__(self, model: nn.Module, inner: float, outer: float) -> None:
        super().__init__()
        self.model = model
        self.inner, self.outer = check_data_range(inner, "inner range"), check_data_range(outer, "outer range")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        factor = self.inner / self.outer
        return self.model(x * factor) / factor
