"""OpenVINO's side of the ``openvino`` and ``openvino_int8`` backends: a Core that keeps compiled models on disk,
the compile settings, and the callable of a compiled model.

OpenVINO keeps a compiled model in ``$SLIMRLFN_CACHE_DIR/openvino`` (its ``CACHE_DIR``, keyed by the graph and the
settings): a second compile of the same graph took 0.12 s here against 0.26-0.40 s. Every call puts back the
alternate signal stack that OpenVINO leaves dangling (:mod:`slimrlfn.core.signal_stack`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import torch

from slimrlfn.core.files import cache_root
from slimrlfn.core.optional import require_module
from slimrlfn.core.signal_stack import keep_signal_stack

__all__ = ["openvino_cache_dir", "openvino_core", "openvino_run", "openvino_settings"]


def openvino_settings() -> Dict[str, Any]:
    """Compile settings of the OpenVINO paths: fp32 wherever a layer is not quantized, latency, torch's threads."""
    return {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": torch.get_num_threads()}


def openvino_core(what: str) -> Tuple[Any, Optional[Path]]:
    """An ``openvino.Core`` that keeps compiled models in :func:`openvino_cache_dir` (when it can be written)."""
    ov = require_module("openvino", what)
    core = ov.Core()
    compiled_cache = openvino_cache_dir()
    if compiled_cache is not None:  # OpenVINO keeps the compiled blob, keyed by the graph and the settings
        core.set_property({"CACHE_DIR": str(compiled_cache)})
    return core, compiled_cache


def openvino_run(compiled: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    """The callable of a compiled OpenVINO model: (1, 3, H, W) tensor -> float32 tensor (a copy)."""
    with keep_signal_stack():  # OpenVINO leaves a dangling sigaltstack behind (see slimrlfn.core.signal_stack)
        request = compiled.create_infer_request()
    output = compiled.output(0)

    def run(x: torch.Tensor) -> torch.Tensor:
        with keep_signal_stack():
            result = request.infer({0: x.detach().cpu().numpy()})[output]
        return torch.from_numpy(np.array(result, copy=True))
    return run


def openvino_cache_dir() -> Optional[Path]:
    """``$SLIMRLFN_CACHE_DIR/openvino`` (created), or None when it cannot be made."""
    folder = cache_root() / "openvino"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return folder if os.access(folder, os.W_OK) else None
    except OSError:
        return None
