"""What a model's own code does while it loads, before any timer starts: its forward passes and its changes to
PyTorch's global state.

The NTIRE ESR challenge times each image with no warm-up, so the first forward of a process pays for kernel
selection, allocation and (on a GPU) the CUDA context. An entry whose constructor or ``select_model`` runs forward
passes (``self.cuda()(torch.randn(1, 3, 256, 256).cuda())``, a loop of 20) has paid that before its first timed
image. :func:`watch_loading` records it, for a block of third-party code (an entry's ``select_model``, a user's
class constructor and weights):

- ``load_forwards``: every outermost module call (a forward of a module not inside another module's forward), with
  the module's class, the shapes of its tensor inputs and its milliseconds (PyTorch's global module hooks,
  ``torch.nn.modules.module.register_module_forward_pre_hook`` / ``register_module_forward_hook``). The count is
  the entry's code's, the same on a CPU and a GPU.
- ``torch_state``: each global setting the block changed, ``{setting: [before, after]}`` (:data:`SETTINGS`:
  ``cudnn.benchmark``, ``cudnn.deterministic``, threads, default dtype, ``set_flush_denormal``, TF32, matmul
  precision, deterministic algorithms, grad mode). The settings are put back afterwards, so that one model's
  code cannot change how the next is measured; the record says what it wanted.
"""
from __future__ import annotations

import contextlib
import time
from typing import Any, Callable, Dict, Iterator, List, Tuple

import torch
from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

__all__ = ["SETTINGS", "torch_state", "watch_loading"]


#: Global settings a model's code may change while it loads: name -> (read it, set it back).
SETTINGS: Dict[str, Tuple[Callable[[], Any], Callable[[Any], None]]] = {
    "cudnn.benchmark": (lambda: torch.backends.cudnn.benchmark,
                        lambda v: setattr(torch.backends.cudnn, "benchmark", v)),
    "cudnn.deterministic": (lambda: torch.backends.cudnn.deterministic,
                            lambda v: setattr(torch.backends.cudnn, "deterministic", v)),
    "cudnn.enabled": (lambda: torch.backends.cudnn.enabled, lambda v: setattr(torch.backends.cudnn, "enabled", v)),
    "cudnn.allow_tf32": (lambda: torch.backends.cudnn.allow_tf32,
                         lambda v: setattr(torch.backends.cudnn, "allow_tf32", v)),
    "cuda.matmul.allow_tf32": (lambda: torch.backends.cuda.matmul.allow_tf32,
                               lambda v: setattr(torch.backends.cuda.matmul, "allow_tf32", v)),
    "float32_matmul_precision": (torch.get_float32_matmul_precision, torch.set_float32_matmul_precision),
    "num_threads": (torch.get_num_threads, torch.set_num_threads),
    "default_dtype": (lambda: str(torch.get_default_dtype()).replace("torch.", ""),
                      lambda v: torch.set_default_dtype(getattr(torch, v))),
    "deterministic_algorithms": (torch.are_deterministic_algorithms_enabled,
                                 lambda v: torch.use_deterministic_algorithms(v)),
    "grad_enabled": (torch.is_grad_enabled, torch.set_grad_enabled),
}


def torch_state() -> Dict[str, Any]:
    """The current value of every setting of :data:`SETTINGS`."""
    return {name: read() for name, (read, _) in SETTINGS.items()}


def _shapes(args: Any) -> List[List[int]]:
    return [list(a.shape) for a in (args if isinstance(args, (tuple, list)) else (args,)) if isinstance(a, torch.Tensor)]


@contextlib.contextmanager
def watch_loading() -> Iterator[Dict[str, Any]]:
    """Record the forward passes and the global-state changes of the block (see the module docstring); yields the
    record ``{"load_forwards": [{"module", "input_shapes", "ms"}], "torch_state": {setting: [before, after]}}``,
    complete when the block ends (also when it raises)."""
    record: Dict[str, Any] = {"load_forwards": [], "torch_state": {}}
    depth, started = [0], []

    def before(module: torch.nn.Module, args: Any) -> None:
        if depth[0] == 0:
            started.append((time.perf_counter(), type(module).__name__, _shapes(args)))
        depth[0] += 1

    def after(module: torch.nn.Module, args: Any, output: Any) -> None:
        depth[0] = max(0, depth[0] - 1)
        if depth[0] == 0 and started:
            begin, name, shapes = started.pop()
            record["load_forwards"].append({"module": name, "input_shapes": shapes,
                                            "ms": (time.perf_counter() - begin) * 1000.0})

    flush_calls: List[bool] = []
    original_flush = torch.set_flush_denormal

    def recording_flush(mode: bool) -> bool:
        flush_calls.append(bool(mode))
        return original_flush(mode)

    state = torch_state()
    handles = [register_module_forward_pre_hook(before), register_module_forward_hook(after)]
    torch.set_flush_denormal = recording_flush
    try:
        yield record
    finally:
        for handle in handles:
            handle.remove()
        torch.set_flush_denormal = original_flush
        now = torch_state()
        record["torch_state"] = {name: [state[name], now[name]] for name in SETTINGS if now[name] != state[name]}
        for name in record["torch_state"]:
            with contextlib.suppress(Exception):  # a setting that cannot go back (threads after a parallel region)
                SETTINGS[name][1](state[name])
        if flush_calls:
            record["torch_state"]["flush_denormal"] = [None, flush_calls[-1]]
            original_flush(False)  # PyTorch's default; it has no getter to read what was there before
