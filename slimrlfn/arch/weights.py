"""The one reader of checkpoint files: ``torch.load(..., weights_only=True)``, never an unpickle, one line on failure.

- :func:`load_weights_only`: any file PyTorch wrote (a state_dict, a training state, a run state) read with
  ``weights_only=True`` on the CPU (or ``map_location``); a missing, corrupt or pickled-object file is a one-line
  :class:`~slimrlfn.core.errors.UserError` naming it. Third-party code's own ``torch.load`` calls go through it
  too (:mod:`slimrlfn.arch.challenge`).
- :func:`read_weights`: a state_dict (name -> tensor) from such a file. The wrappers of common training code are
  unwrapped in one list, in spandrel's order (``canonicalize_state_dict``): the dict under :data:`WRAPPER_KEYS`
  (``state_dict``, then ``params_ema`` (the EMA weights BasicSR tests with), then ``params``) unless
  ``state_key`` names one, then a ``module.`` prefix that every key has (``DataParallel``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import torch

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike

__all__ = ["WRAPPER_KEYS", "load_weights_only", "read_weights"]

#: Keys a checkpoint may keep its weights under, tried in this order when no ``state_key`` is given.
WRAPPER_KEYS = ("state_dict", "params_ema", "params")
#: A prefix every key may carry (``nn.DataParallel``, ``DistributedDataParallel``).
_PREFIXES = ("module.",)
#: PyTorch's own loader, taken at import: third-party code runs with ``torch.load`` replaced by a shim that calls
#: :func:`load_weights_only` (:mod:`slimrlfn.arch.challenge`).
_TORCH_LOAD = torch.load


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def load_weights_only(path: Union[PathLike, Any], what: str = "checkpoint",
                      map_location: Union[str, torch.device, None] = "cpu") -> Any:
    """``torch.load(path, map_location, weights_only=True)``; UserError ``"{what} {path}: ..."`` (one line) for a
    missing file, a corrupt one or one that needs a pickle load (refused, never unpickled). ``path`` may be an
    open file object, as ``torch.load`` allows."""
    if isinstance(path, (str, Path)) and not Path(path).is_file():
        raise UserError(f"{what} {path}: no such file")
    try:
        return _TORCH_LOAD(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or pickled-object files
        raise UserError(f"{what} {path}: cannot be read as weights only ({_first_line(exc)}); refused, "
                        f"never unpickled") from None


def _is_state_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(isinstance(v, torch.Tensor) for v in obj.values())


def read_weights(path: PathLike, state_key: Optional[str] = None, what: str = "checkpoint",
                 model: Optional[torch.nn.Module] = None) -> Dict[str, torch.Tensor]:
    """The state_dict in checkpoint ``path`` (CPU tensors), unwrapped as the module docstring says (a prefix is kept
    when ``model``, the network the weights are for, has it on every key of its own).

    UserError (one line) when the file cannot be read, ``state_key`` is not in it, or no state_dict is found.
    """
    obj = load_weights_only(path, what)
    if state_key is not None:
        if not isinstance(obj, Mapping) or state_key not in obj:
            keys = list(obj)[:6] if isinstance(obj, Mapping) else []
            raise UserError(f"--state_key {state_key}: {path} has no such key (top-level keys: {keys})")
        obj = obj[state_key]
    elif isinstance(obj, Mapping) and not _is_state_dict(obj):
        obj = next((obj[key] for key in WRAPPER_KEYS if isinstance(obj.get(key), Mapping)), obj)
    if not _is_state_dict(obj):
        hint = ""
        if isinstance(obj, Mapping):
            nested = [str(k) for k, v in obj.items() if isinstance(v, Mapping)]
            hint = f"; it holds {', '.join(nested[:4])}: give --state_key" if nested else ""
        raise UserError(f"{what} {path}: expected a state_dict (name -> tensor), got {type(obj).__name__}{hint}")
    state = dict(obj)
    own = list(model.state_dict()) if model is not None else []
    for prefix in _PREFIXES:
        if all(key.startswith(prefix) for key in state) and not (own and all(k.startswith(prefix) for k in own)):
            state = {key[len(prefix):]: value for key, value in state.items()}
    return state
