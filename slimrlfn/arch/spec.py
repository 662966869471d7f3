"""A loaded model with everything known about it: :class:`ModelSpec`.

What :func:`slimrlfn.arch.ref.load_model` gives back for a :class:`~slimrlfn.arch.ref.ModelRef`: the network (eval
mode, CPU, no gradients), the reference that loads it again (absolute: a worker process or a later run loads the
same model from it), its results key and label, its :class:`~slimrlfn.arch.contract.Contract` (range, scale,
tile, smallest input), its workbook architecture config (zoo models and workbook checkpoints) and ``loaded``,
what loading it did (a non-strict load's keys, the model a derived one came from, what an entry printed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Union

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.contract import Contract
from slimrlfn.core.files import safe_name

__all__ = ["ModelSpec"]


@dataclass
class ModelSpec:
    """A model ready to use (see the module docstring). ``result_name`` is its key in results.json, ``label``
    its display name; ``path`` the file (or repository) its weights came from (absolute), when it has one."""

    ref: Any  # the absolute ModelRef that loads this model again
    model: nn.Module
    result_name: str
    label: str
    contract: Contract = field(default_factory=Contract)
    config: Optional[Dict[str, Any]] = None
    path: Optional[str] = None
    loaded: Dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        """Its results key as one safe path component (:func:`slimrlfn.core.files.safe_name`): the folder of its SR
        images. An entry's own name (``../../x``, ``         11_VSCINet``) stays its results key."""
        return safe_name(self.result_name)

    @property
    def kind(self) -> str:
        """The kind of model (:data:`slimrlfn.arch.kinds.KINDS`): zoo, checkpoint, class, challenge, derived."""
        return self.ref.kind

    @property
    def key(self) -> str:
        """Its key in timing and deployment records: the zoo name for a zoo model, else the results key."""
        return str(self.ref.args["model"]) if self.ref.kind == "zoo" else self.result_name

    @property
    def data_range(self) -> float:
        return self.contract.data_range

    @property
    def scale(self) -> int:
        return self.contract.scale

    @property
    def tile(self) -> Optional[int]:
        return self.contract.tile

    @property
    def min_size(self) -> int:
        return self.contract.min_size

    def to_input(self, img: np.ndarray, device: Union[str, torch.device] = "cpu") -> torch.Tensor:
        """RGB uint8 (H, W, 3) -> this model's input (1, 3, H, W) on ``device``."""
        return self.contract.to_input(img, device)

    def to_uint8(self, output: torch.Tensor) -> np.ndarray:
        """This model's output (1, 3, H, W) -> RGB uint8 (H, W, 3), as test_demo.py rounds it."""
        return self.contract.to_uint8(output)

    def record(self) -> Dict[str, Any]:
        """What a results entry says of the model: ``model`` (label), ``ref`` (its JSON form, which
        :meth:`slimrlfn.arch.ref.ModelRef.parse` reads back), ``kind``, ``config``, the contract's ``scale``,
        ``data_range``, and what loading did."""
        return {"model": self.label, "ref": self.ref.to_json(), "kind": self.kind, "config": self.config,
                "scale": self.scale, "data_range": self.data_range, **self.loaded}
