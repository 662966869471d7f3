"""Your own SR network: a class from a file or a module, its constructor arguments and its checkpoint.

``target`` is ``path/to/file.py:ClassName`` (the file is imported where it is, never copied) or
``package.module:ClassName`` (imported as usual). The class is called with ``kwargs`` (a JSON
object); a checkpoint is read with ``weights_only=True`` (a file that needs more is refused, never
unpickled), optionally from under ``state_key`` (``params``, ``params_ema``, ...), and loaded
strictly unless ``strict=False``, in which case the missing and unexpected keys are reported.

:func:`check_sr_model` runs one small forward on a photograph (:func:`check_photo`: a crop of scikit-image's
``astronaut``, the first photo of the embedded sample, brought to LR by a 4x4 box average) in the model's range,
and refuses, in one line, a model whose output is not ``scale`` times its input, whose output on the photograph is
not finite, or which needs CUDA. Noise is no test of a working model: entries of another challenge year return NaN
on uniform noise and 30.1-30.2 dB on Set5 through their own repository's pipeline.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.weights import read_weights
from slimrlfn.core.errors import UserError
from slimrlfn.core.fence import fence
from slimrlfn.core.files import PathLike

__all__ = ["CHECK_SIZE", "build_external", "check_photo", "check_sr_model", "load_class"]

#: LR side of the check forward (large enough for windowed attention and ESA-like branches).
CHECK_SIZE = 64


def load_class(target: str, what: str = "--model") -> type:
    """The class named by ``file.py:Class`` or ``package.module:Class``; UserError (one line) otherwise."""
    where, sep, name = str(target).rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise UserError(f"{what} {target!r}: expected path/to/file.py:ClassName or package.module:ClassName")
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise UserError(f"{what} {target}: no such file {path}")
        module_name = f"_slimrlfn_user_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.resolve().parent))  # the file's own sibling imports
        bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in the user's folder
        try:
            with fence(f"{what} {target}", lambda exc: f"{path} cannot be imported ({_first_line(exc)})"):
                spec.loader.exec_module(module)
        finally:
            sys.dont_write_bytecode = bytecode
            sys.path.remove(str(path.resolve().parent))
        sys.modules[module_name] = module
    else:
        with fence(f"{what} {target}", lambda exc: f"module {where} cannot be imported ({_first_line(exc)})"):
            module = importlib.import_module(where)
    cls = getattr(module, name, None)
    if not inspect.isclass(cls) or not issubclass(cls, nn.Module):
        found = sorted(k for k, v in vars(module).items() if inspect.isclass(v) and issubclass(v, nn.Module)
                       and getattr(v, "__module__", None) == module.__name__)
        raise UserError(f"{what} {target}: no nn.Module class {name} in {where}"
                        + (f" (it has {', '.join(found)})" if found else ""))
    return cls


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def build_external(target: str, kwargs: Optional[Mapping[str, Any]] = None, checkpoint: Optional[PathLike] = None,
                   state_key: Optional[str] = None, strict: bool = True,
                   what: str = "--model") -> Tuple[nn.Module, Optional[Dict[str, List[str]]]]:
    """``(model in eval mode on CPU, non-strict load report or None)`` of a class with its arguments and weights."""
    cls = load_class(target, what)
    kwargs = dict(kwargs or {})
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as exc:
        raise UserError(f"--kwargs {json.dumps(kwargs)}: do not fit {cls.__name__}{inspect.signature(cls)} ({exc})") from None
    with fence(f"{what} {target}", lambda exc: f"{cls.__name__}(**{json.dumps(kwargs)}) failed ({_first_line(exc)})"):
        model = cls(**kwargs)
    report = None
    if checkpoint is not None:
        state_dict = read_weights(checkpoint, state_key, "--checkpoint", model)
        own = model.state_dict()
        mismatched = [f"{k} {tuple(v.shape)} vs {tuple(own[k].shape)}" for k, v in state_dict.items()
                      if k in own and tuple(v.shape) != tuple(own[k].shape)]
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if mismatched or (strict and (missing or unexpected)):
            parts = [f"{label}: {', '.join(items[:4])}{f' (+{len(items) - 4} more)' if len(items) > 4 else ''}"
                     for label, items in (("missing keys", missing), ("unexpected keys", unexpected),
                                          ("shape mismatches (checkpoint vs model)", mismatched)) if items]
            raise UserError(f"--checkpoint {checkpoint} does not fit {cls.__name__}: {'; '.join(parts)}")
        model.load_state_dict(state_dict, strict=strict)
        if not strict:
            report = {"missing": missing, "unexpected": unexpected}
    return model.eval(), report


@functools.lru_cache(maxsize=4)
def check_photo(size: int = CHECK_SIZE) -> np.ndarray:
    """An RGB uint8 (size, size, 3) LR photograph: the centre of scikit-image's ``astronaut`` (512x512, public
    domain), averaged over 4x4 boxes, its centre ``size`` x ``size`` crop."""
    from skimage import data as skdata  # scikit-image takes a while to import: only when a model is checked

    photo = skdata.astronaut().astype(np.float64)
    lr = photo.reshape(128, 4, 128, 4, 3).mean(axis=(1, 3))
    top = max(0, (128 - size) // 2)
    crop = lr[top:top + size, top:top + size]
    if crop.shape[:2] != (size, size):
        raise ValueError(f"check photo: {size}x{size} is larger than the 128x128 LR photo")
    return np.round(crop).astype(np.uint8)


@torch.no_grad()
def check_sr_model(model: nn.Module, data_range: float, scale: int, device: torch.device, label: str,
                   size: int = CHECK_SIZE) -> None:
    """One forward of the check photograph (:func:`check_photo`, 1 x 3 x size x size) in [0, data_range] on
    ``device``: the output must be (1, 3, scale*size, scale*size) and finite; a model that needs CUDA is refused
    on a CPU. UserError otherwise."""
    x = torch.from_numpy(check_photo(size)).permute(2, 0, 1).unsqueeze(0).float().mul_(data_range / 255.0).to(device)
    def failure(exc: BaseException) -> str:
        text = _first_line(exc)
        if device.type != "cuda" and ("CUDA" in text or "cuda" in text):
            return f"needs a CUDA device, but the device is {device} ({text})"
        return f"a {size}x{size} input fails in the model ({text})"

    with fence(label, failure):
        y = model(x)
    if not isinstance(y, torch.Tensor):
        raise UserError(f"{label}: the model returns {type(y).__name__}, expected one tensor (1, 3, H, W)")
    if tuple(y.shape) != (1, 3, scale * size, scale * size):
        raise UserError(f"{label}: a 1x3x{size}x{size} input gives {'x'.join(map(str, y.shape))}, expected "
                        f"1x3x{scale * size}x{scale * size} (x{scale} super-resolution)")
    if not torch.isfinite(y).all():
        raise UserError(f"{label}: its output on a {size}x{size} photograph is not finite (NaN or inf); check the "
                        f"weights and the range (data_range {data_range:g})")
