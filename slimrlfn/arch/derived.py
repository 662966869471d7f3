"""A derived model: any SR network (a class, a challenge entry) with channels removed by Torch-Pruning.

Saved the workbook's way, never as a pickled module: ``NAME.pth`` (a plain state_dict) and ``NAME.json``
beside it, ``{"kind": "slimrlfn-derived", "source": <the source model's reference, its JSON form>,
"data_range", "trace_side", "removals": [{conv name: [channel indices]}, ...]}`` (records written before the
reference had a JSON form keep the keyword form of the flags there; it reads the same). :func:`load_derived`
rebuilds the source model, replays each removal through a dependency graph traced again (indices refer
to the widths after the removals before it), and loads the state_dict strictly with ``weights_only=True``.

:func:`trace_graph` traces the :class:`torch_pruning.DependencyGraph` on the model in eval mode (its
inference path) with a (1, 3, side, side) input in [0, data_range]. Torch-Pruning sees ``pixel_shuffle``
as element-wise; here every shuffle of factor r gets the index mapping of its channel regrouping (input
channel i is output channel i // r^2), so removals through it take whole blocks of r^2 channels.
:func:`remove_channels` removes ``{conv name: indices}`` of the conv's output channels with every
coupled layer.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Sequence, Tuple

import torch
import torch.nn as nn
import torch_pruning as tp
from torch_pruning.dependency.index_mapping import _FlattenIndexMapping

from slimrlfn.arch.weights import read_weights
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_json

__all__ = ["DERIVED_KIND", "TRACE_SIDE", "config_path", "example_input", "first_line", "is_derived", "load_derived",
           "remove_channels", "save_derived", "trace_graph"]

DERIVED_KIND = "slimrlfn-derived"
#: LR side of the tracing input (pooling to H/8 needs at least 8; windows of 8 or 16 fit 32).
TRACE_SIDE = 32

Removal = Mapping[str, Sequence[int]]


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (at most 160 characters of it)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


def example_input(model: nn.Module, data_range: float, side: int = TRACE_SIDE) -> torch.Tensor:
    """A fixed (1, 3, side, side) input in [0, data_range] on the model's device and dtype."""
    param = next(model.parameters())
    generator = torch.Generator().manual_seed(0)
    return (torch.rand(1, 3, side, side, generator=generator) * data_range).to(param.device, param.dtype)


def trace_graph(model: nn.Module, data_range: float, side: int = TRACE_SIDE) -> Tuple[tp.DependencyGraph, Dict[nn.Module, int]]:
    """The dependency graph of ``model`` (put in eval mode) and ``{module whose output feeds a pixel shuffle: r^2}``.

    UserError (one line) when Torch-Pruning cannot trace the model.
    """
    model.eval()
    flags = [(p, p.requires_grad) for p in model.parameters()]
    try:
        for param, _ in flags:
            param.requires_grad_(True)  # the graph is traced through autograd
        with warnings.catch_warnings(), torch.enable_grad():
            warnings.simplefilter("ignore")
            graph = tp.DependencyGraph().build_dependency(model, example_inputs=example_input(model, data_range, side))
    except Exception as exc:
        raise UserError(f"Torch-Pruning cannot trace {type(model).__name__} ({first_line(exc)}); it cannot be "
                        f"pruned here") from None
    finally:
        for param, flag in flags:
            param.requires_grad_(flag)
    shuffle_inputs: Dict[nn.Module, int] = {}
    for node in list(graph.module2node.values()):
        factor = getattr(node.grad_fn, "_saved_upscale_factor", None)
        if factor is None or "PixelShuffle" not in type(node.grad_fn).__name__:
            continue
        stride = int(factor) ** 2
        for source in node.inputs:
            shuffle_inputs[source.module] = stride
            for dep in node.dependencies:  # shuffle output channel c <- input channels c r^2 .. c r^2 + r^2 - 1
                if dep.target == source:
                    dep.index_mapping[0] = _FlattenIndexMapping(stride=stride, reverse=False)
            for dep in source.dependencies:  # input channel i -> output channel i // r^2
                if dep.target == node:
                    dep.index_mapping[0] = _FlattenIndexMapping(stride=stride, reverse=True)
    return graph, shuffle_inputs


def remove_channels(model: nn.Module, graph: tp.DependencyGraph, removal: Removal) -> None:
    """Remove output channels ``removal[conv name]`` (and every coupled slice) from ``model`` in place.

    ValueError for a name that is not a conv of the model, an index out of range, or all channels.
    """
    modules = dict(model.named_modules())
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        for name, idxs in removal.items():
            idxs = sorted(set(int(i) for i in idxs))
            if not idxs:
                continue
            if not isinstance(modules.get(name), nn.Conv2d):
                raise ValueError(f"{name!r} is not a Conv2d of {type(model).__name__}")
            width = modules[name].out_channels
            if idxs[0] < 0 or idxs[-1] >= width or len(idxs) >= width:
                raise ValueError(f"{name}: channel indices must lie in 0..{width - 1} and leave at least one")
            graph.get_pruning_group(modules[name], tp.prune_conv_out_channels, idxs=idxs).prune()


def config_path(path: PathLike) -> Path:
    """``NAME.json`` beside ``NAME.pth``."""
    return Path(path).with_suffix(".json")


def is_derived(path: PathLike) -> bool:
    """Whether the ``.json`` beside checkpoint ``path`` describes a derived model."""
    beside = config_path(path)
    if not beside.is_file():
        return False
    try:
        return json.loads(beside.read_text()).get("kind") == DERIVED_KIND
    except (ValueError, AttributeError):
        return False


def save_derived(model: nn.Module, path: PathLike, source: Mapping[str, Any], removals: Sequence[Removal],
                 data_range: float, extra: Mapping[str, Any] = ()) -> Path:
    """Write ``path`` (state_dict) and its JSON record (see the module docstring), each atomically."""
    path = Path(path)
    if path.suffix != ".pth":
        raise UserError(f"{path}: expected a file name ending in .pth")
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.partial")
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, staged)
    staged.replace(path)
    atomic_write_json(config_path(path), {"kind": DERIVED_KIND, "source": dict(source), "data_range": float(data_range),
                                          "trace_side": TRACE_SIDE,
                                          "removals": [{k: [int(i) for i in v] for k, v in r.items()} for r in removals],
                                          **dict(extra)})
    return path


def load_derived(path: PathLike, load_source: Callable[[Any], Any]) -> Tuple[nn.Module, Dict[str, Any], Any]:
    """``(model in eval mode, record, source spec)`` of derived checkpoint ``path``; ``load_source(record["source"])``
    loads the source model (passed in: :func:`slimrlfn.arch.ref.load_model`), whose contract the derived one keeps.

    UserError (one line) for a record that is not valid, a removal that does not fit, or weights that do not.
    """
    path = Path(path)
    try:
        record = json.loads(config_path(path).read_text())
        source, removals = record["source"], list(record["removals"])
        if not isinstance(source, (dict, str)):
            raise TypeError(f"its source is {type(source).__name__}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{config_path(path)}: not a derived-model record ({first_line(exc)})") from None
    spec = load_source(source)
    model = spec.model
    side = int(record.get("trace_side", TRACE_SIDE))
    try:
        for removal in removals:
            graph, _ = trace_graph(model, spec.data_range, side)
            remove_channels(model, graph, removal)
    except ValueError as exc:
        raise UserError(f"{config_path(path)}: its removals do not fit the source model ({exc})") from None
    state = read_weights(path, model=model)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise UserError(f"checkpoint {path}: does not fit its derived model ({first_line(exc)})") from None
    for param in model.parameters():
        param.requires_grad_(False)
    return model.eval(), record, spec
