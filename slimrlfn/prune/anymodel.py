"""Which channels of any SR network can go: Torch-Pruning groups, tried one by one.

For models outside RLFN / SlimRLFN (a user's class, a challenge entry). :class:`AnyModelGroups` traces
the model's inference path (:func:`slimrlfn.arch.derived.trace_graph`, pixel shuffles regrouped by r^2)
and makes a *unit* of every group whose root is a ``Conv2d``'s output channels, named by that conv
(e.g. ``block_1.c1_r.eval_conv``). A unit whose group reaches a pixel shuffle loses whole blocks of
r^2 channels (``block``).

**Trials.** Each candidate unit is pruned by one block on a copy and kept only when the copy runs,
gives an output of the same shape and finite values, and keeps its smaller weights after a forward.
Anything else is left alone with the reason: channels that reach the model's output (the last conv
before the x4 shuffle), a module that re-fuses its weights from training branches at every forward,
a grouped conv or an attention split whose sizes the channels cannot leave.

:class:`AnyModelGroups` has the interface of :class:`slimrlfn.prune.groups.ChannelGroups` (``subgroups``,
``group``), so every criterion of :mod:`slimrlfn.prune.criteria` scores its channels; it is the group finder of
the any-model pruner (:mod:`slimrlfn.prune.pruners`). :func:`prune_any` removes a share of every unit's channels
in one step (the lowest scores first, by any criterion) and refuses, in one line naming the blocking layer, a
model none of whose units can lose a channel. The result
is the same class with smaller layers, meant for inference mode: training branches that the inference
path does not use are not pruned (fine-tune in inference mode,
:func:`slimrlfn.train.finetune.finetune` with ``inference_mode=True``).
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch_pruning as tp

from slimrlfn.arch.derived import TRACE_SIDE, example_input, first_line, remove_channels, trace_graph
from slimrlfn.core.errors import UserError
from slimrlfn.prune.criteria import channel_scores, lowest
from slimrlfn.prune.groups import Subgroup
from slimrlfn.prune.plan import fraction_count

__all__ = ["AnyModelGroups", "AnyUnit", "blocking_layer", "prune_any"]


@dataclass
class AnyUnit:
    """A prunable group: ``name`` its root conv, ``width`` its channels, removed in multiples of ``block``."""

    name: str
    width: int
    block: int = 1


class AnyModelGroups:
    """The dependency graph of ``model`` (changed in place by :meth:`prune`), its units and what is left alone.

    ``units``: name -> :class:`AnyUnit` (module order); ``left_alone``: root conv name -> reason (one line).
    ``names``: restrict the candidates to these convs (e.g. the units found before, for a later step);
    ``trial=False`` skips the trials.
    """

    def __init__(self, model: nn.Module, data_range: float, side: int = TRACE_SIDE, trial: bool = True,
                 names: Optional[Sequence[str]] = None) -> None:
        self.model, self.data_range, self.side = model.eval(), float(data_range), int(side)
        self.graph, shuffle_inputs = trace_graph(model, self.data_range, self.side)
        module_names = {module: name for name, module in model.named_modules()}
        self.units: Dict[str, AnyUnit] = {}
        self.left_alone: Dict[str, str] = {}
        with torch.no_grad():
            shape = model(example_input(model, self.data_range, self.side)).shape
        for root, block in self._candidates(module_names, shuffle_inputs):
            name = module_names[root]
            if names is not None and name not in names:
                continue
            reason = self._trial(name, block, shape) if trial else None
            if reason is None:
                self.units[name] = AnyUnit(name, root.out_channels, block)
            else:
                self.left_alone[name] = reason

    def _candidates(self, names: Mapping[nn.Module, str], shuffle_inputs: Mapping[nn.Module, int]) -> List[Tuple[nn.Conv2d, int]]:
        """One group per conv root, module order (a conv whose output channels an earlier group already removes
        is not a root again), with its block: r^2 when the group removes output channels of a module that
        feeds a pixel shuffle of factor r, else 1. A conv whose channels Torch-Pruning cannot follow is left alone."""
        found: List[Tuple[nn.Conv2d, int]] = []
        covered = set()
        for root, name in names.items():
            if not isinstance(root, nn.Conv2d) or root in covered or root not in self.graph.module2node:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    group = self.graph.get_pruning_group(root, tp.prune_conv_out_channels,
                                                         idxs=list(range(root.out_channels)))
            except Exception as exc:  # an index mapping Torch-Pruning cannot resolve (splits, reshapes)
                self.left_alone[name] = f"Torch-Pruning cannot follow its channels ({first_line(exc)})"
                continue
            producers = {item.dep.target.module for item in group if self.graph.is_out_channel_pruning_fn(item.dep.handler)}
            covered |= producers
            found.append((root, max([shuffle_inputs[m] for m in producers if m in shuffle_inputs] or [1])))
        return found

    def _trial(self, name: str, block: int, shape: torch.Size) -> Optional[str]:
        """None when removing one block of unit ``name`` works on a copy; else why not (one line)."""
        work = copy.deepcopy(self.model)
        width = dict(work.named_modules())[name].out_channels
        if width <= block:
            return f"only {width} channel(s), removed in blocks of {block}"
        try:
            graph, _ = trace_graph(work, self.data_range, self.side)
            remove_channels(work, graph, {name: list(range(block))})
            with torch.no_grad():
                out = work(example_input(work, self.data_range, self.side))
        except UserError as exc:
            return str(exc)
        except Exception as exc:  # an operator whose channels cannot change alone (groups, heads, splits)
            return f"the model fails without a channel of it ({first_line(exc)})"
        if out.shape != shape:
            return (f"its channels reach the model's output (shape {list(out.shape)} instead of {list(shape)}"
                    + (f", through a pixel shuffle of {block} channels per output channel)" if block > 1 else ")"))
        if not torch.isfinite(out).all():
            return "the model gives non-finite values without a channel of it"
        if dict(work.named_modules())[name].weight.shape[0] != width - block:
            return "its module rewrites the weights in forward (a reparameterized block fusing its training branches)"
        return None

    def prune(self, removal: Mapping[str, Sequence[int]]) -> None:
        """Remove channels ``removal[unit]`` (indices into its current width) from ``self.model`` in place.

        ValueError for an unknown unit, indices out of range or all of them, or a count that is not a
        multiple of the unit's block.
        """
        for name, idxs in removal.items():
            if name not in self.units:
                raise ValueError(f"unknown unit {name!r}; the prunable units are {sorted(self.units)}")
            if len(set(idxs)) % self.units[name].block:
                raise ValueError(f"unit {name}: {len(set(idxs))} channels, expected a multiple of {self.units[name].block}")
        remove_channels(self.model, self.graph, removal)

    @property
    def subgroups(self) -> Dict[str, List[Subgroup]]:
        """``{unit: [its one channel group]}``, as :class:`slimrlfn.prune.groups.ChannelGroups` gives them."""
        modules = dict(self.model.named_modules())
        return {name: [Subgroup(modules[name], name, modules[name].out_channels)] for name in self.units}

    def group(self, subgroup: Subgroup, idxs: Sequence[int]):
        """The Torch-Pruning group of ``subgroup`` restricted to channels ``idxs``."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.graph.get_pruning_group(subgroup.root, tp.prune_conv_out_channels, idxs=list(idxs))


def blocking_layer(left_alone: Mapping[str, str], model: nn.Module) -> str:
    """The left-alone conv with the most channels and its reason (the layer a user would want pruned)."""
    modules = dict(model.named_modules())
    if not left_alone:
        return "no conv roots a channel group"
    name = max(left_alone, key=lambda n: modules[n].out_channels)
    return f"{name}: {left_alone[name]}"


def prune_any(model: nn.Module, fraction: float, data_range: float, min_width: int = 4,
              units: Optional[Sequence[str]] = None, multiple_of: int = 1, criterion: str = "l1",
              reduction: str = "mean", seed: int = 0) -> Tuple[nn.Module, Dict[str, List[int]], Dict[str, str]]:
    """A copy of ``model`` with ``fraction`` (0..1) of every prunable unit's channels removed, the lowest scores of
    ``criterion`` first (:mod:`slimrlfn.prune.criteria`; ``taylor`` needs gradients in ``model``'s ``.grad``).

    Each unit loses :func:`slimrlfn.prune.plan.fraction_count` channels (``floor(width * fraction)`` rounded down
    to its block, at least one block, keeping at least ``min_width``; with ``multiple_of`` m > 1 the width left is
    a multiple of m). ``units`` names the units found before (no trials again). Returns ``(pruned copy, removal
    {unit: indices}, left alone {conv: why})``. UserError (one line, naming the blocking layer) when no unit can
    lose a channel.
    """
    if not 0.0 < fraction < 1.0:
        raise UserError(f"--fraction {fraction}: expected a number between 0 and 1 (the share of channels per step)")
    if multiple_of < 1:
        raise UserError(f"--multiple_of {multiple_of}: expected 1 or more")
    work = copy.deepcopy(model)
    groups = AnyModelGroups(work, data_range, trial=units is None, names=units)
    scores = channel_scores(groups, criterion, reduction, seed)
    removal: Dict[str, List[int]] = {}
    for name, unit in groups.units.items():
        count = fraction_count(unit.width, fraction, max(min_width, unit.block), multiple_of, unit.block)
        if count:
            removal[name] = lowest(scores[name][0], count, unit.block)
    if not removal:
        raise UserError(f"{type(model).__name__} cannot be pruned: no channel group can lose a channel "
                        f"(blocking: {blocking_layer(groups.left_alone, model)})")
    groups.prune(removal)
    return work, removal, dict(groups.left_alone)
