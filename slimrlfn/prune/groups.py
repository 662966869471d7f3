"""Structured channel pruning of RLFN / SlimRLFN: the dependency groups and the exact surgery.

Follows Torch-Pruning (Fang et al., "DepGraph: Towards Any Structural Pruning", CVPR 2023; the
``torch_pruning`` package): a :class:`torch_pruning.DependencyGraph` traced on the model finds every
set of coupled channels (a *group*), and Torch-Pruning's pruning functions cut the weights. The upsampler conv is left out (its outputs are regrouped by the pixel
shuffle), so only its input channels move with the feature width.

The groups the graph finds, in config terms (*units*, :mod:`slimrlfn.prune.units`):

- ``bN.c1_r``, ``bN.c2_r`` (kind ``inner``): the outputs of ``c1_r`` / ``c2_r`` of block N with the
  inputs of the next conv: the official ``prune_channels``. One group each.
- ``bN.esa`` (kind ``esa``): the ESA width of block N. Two groups in SlimRLFN ({conv1, conv3}
  outputs, summed before conv4; conv2's outputs), three in RLFN (conv1; {conv_f, conv3}; conv2);
  a step removes the same number of channels from each, so the block keeps one ESA width.
- ``features`` (kind ``feature``): ``feature_channels``. The graph shows that the feature width is
  *not* one coupled set: ``c5`` starts a new channel space in every block, so there are
  ``num_blocks + 1`` independent groups ({conv_1, block 1's residual, conv_2, the upsampler's
  input}, then one per block boundary). A step removes the same number from each (the config has
  one width), each group choosing its own channels.

Which channels of a group matter least is for :mod:`slimrlfn.prune.criteria` to say.

Surgery (:func:`prune_model`) is exact: the smaller model computes what the full model computes
with the removed channels' producing filters and biases set to zero (:func:`mask_model`). The
result is always rebuilt from its config (:func:`slimrlfn.arch.config.config_of`) and loaded strictly.
"""
from __future__ import annotations

import copy
import re
import warnings
from dataclasses import dataclass
from typing import Dict, List, Sequence

import torch
import torch.nn as nn
import torch_pruning as tp

from slimrlfn.arch.config import build_model, config_of
from slimrlfn.arch.rlfn import RLFN, SlimRLFN

__all__ = ["ChannelGroups", "Removal", "Subgroup", "mask_model", "prune_in_place", "prune_model", "rebuild"]

#: LR side of the tracing input of the dependency graph (the ESA branch needs >= 15).
_TRACE_SIZE = 16


def _upsampler_conv(model: nn.Module) -> nn.Conv2d:
    if isinstance(model, RLFN):
        return model.upsampler[0]
    if isinstance(model, SlimRLFN):
        return model.upsampler.upsample_conv
    raise TypeError(f"not an RLFN or SlimRLFN model: {type(model).__name__}")


@dataclass
class Subgroup:
    """One independent set of coupled channels: ``root`` (named ``root_name``) produces them, ``size`` of them."""

    root: nn.Conv2d  # a conv whose output channels are the group's channels
    root_name: str
    size: int


class ChannelGroups:
    """The Torch-Pruning dependency graph of ``model``, its groups sorted into :class:`Unit` names.

    ``subgroups[unit name]`` lists the independent channel groups of that unit (see the module
    docstring), in module order. The graph refers to ``model`` itself: pruning through it changes
    ``model`` in place.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        up = _upsampler_conv(model)
        param = next(model.parameters())
        example = torch.rand(1, model.conv_1.in_channels, _TRACE_SIZE, _TRACE_SIZE, device=param.device,
                             dtype=param.dtype)
        with warnings.catch_warnings(), torch.enable_grad():  # the graph is traced through autograd
            warnings.simplefilter("ignore")
            self.graph = tp.DependencyGraph().build_dependency(model, example_inputs=example)
            groups = list(self.graph.get_all_groups(ignored_layers=[up], root_module_types=[nn.Conv2d]))
        names = {module: name for name, module in model.named_modules()}
        order = {name: i for i, name in enumerate(names.values())}
        owner: Dict[nn.Module, int] = {}
        for i, block in enumerate(model.blocks()):
            for module in block.modules():
                owner[module] = i
        self.subgroups: Dict[str, List[Subgroup]] = {}
        for group in groups:
            producers = sorted((names[item.dep.target.module] for item in group
                                if self.graph.is_out_channel_pruning_fn(item.dep.handler)
                                and isinstance(item.dep.target.module, nn.Conv2d)), key=order.__getitem__)
            if not producers:
                continue
            unit = self._classify(producers, names, owner, model)
            root = dict(model.named_modules())[producers[0]]
            self.subgroups.setdefault(unit, []).append(Subgroup(root, producers[0], root.out_channels))
        for subgroups in self.subgroups.values():
            subgroups.sort(key=lambda s: order[s.root_name])

    @staticmethod
    def _classify(producers: List[str], names: Dict[nn.Module, str], owner: Dict[nn.Module, int],
                  model: nn.Module) -> str:
        modules = dict(model.named_modules())
        leaf = [p.rsplit(".", 1)[-1] for p in producers]
        if "conv_1" in producers or "c5" in leaf:
            return "features"
        block = owner[modules[producers[0]]] + 1
        if leaf == ["c1_r"] or leaf == ["c2_r"]:
            return f"b{block}.{leaf[0]}"
        if all(re.search(r"\.esa\.", p) for p in producers):
            return f"b{block}.esa"
        raise RuntimeError(f"unexpected channel group with producers {producers}")

    def group(self, subgroup: Subgroup, idxs: Sequence[int]):
        """The Torch-Pruning group of ``subgroup`` restricted to channels ``idxs``."""
        return self.graph.get_pruning_group(subgroup.root, tp.prune_conv_out_channels, idxs=list(idxs))


Removal = Dict[str, List[List[int]]]


def _check_removal(groups: ChannelGroups, removal: Removal) -> None:
    for unit, per_subgroup in removal.items():
        if unit not in groups.subgroups:
            raise ValueError(f"unknown unit {unit!r}; the model has {sorted(groups.subgroups)}")
        subgroups = groups.subgroups[unit]
        if len(per_subgroup) != len(subgroups):
            raise ValueError(f"unit {unit}: {len(per_subgroup)} index lists for {len(subgroups)} channel groups")
        counts = {len(set(idxs)) for idxs in per_subgroup}
        if len(counts) != 1:
            raise ValueError(f"unit {unit}: every channel group must lose the same number of channels, got {counts}")
        for sub, idxs in zip(subgroups, per_subgroup):
            if any(not 0 <= i < sub.size for i in idxs):
                raise ValueError(f"unit {unit}: channel index out of range 0..{sub.size - 1} in {sorted(idxs)}")
            if len(set(idxs)) >= sub.size:
                raise ValueError(f"unit {unit}: cannot remove all {sub.size} channels of {sub.root_name}")


def prune_in_place(groups: ChannelGroups, removal: Removal) -> None:
    """Remove the channels ``removal[unit][subgroup]`` from ``groups.model`` through the dependency graph."""
    _check_removal(groups, removal)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        for unit, per_subgroup in removal.items():
            for sub, idxs in zip(groups.subgroups[unit], per_subgroup):
                if idxs:
                    groups.group(sub, sorted(set(idxs))).prune()


def rebuild(model: nn.Module) -> nn.Module:
    """A fresh model built from ``config_of(model)`` with ``model``'s weights loaded strictly (same device)."""
    param = next(model.parameters())
    clean = build_model(config_of(model)).to(device=param.device, dtype=param.dtype)
    with torch.no_grad():
        clean.load_state_dict(model.state_dict(), strict=True)
    return clean.train(model.training)


def prune_model(model: nn.Module, removal: Removal) -> nn.Module:
    """A physically smaller copy of ``model`` without the channels of ``removal``; ``model`` is untouched.

    ``removal`` maps a unit name to one list of channel indices per subgroup
    (``ChannelGroups(model).subgroups[unit]``), each list of the same length.
    """
    work = copy.deepcopy(model)
    prune_in_place(ChannelGroups(work), removal)
    return rebuild(work)


def mask_model(model: nn.Module, removal: Removal) -> nn.Module:
    """A copy of ``model`` with the producing filters and biases of the ``removal`` channels set to zero.

    Same architecture; its output equals that of :func:`prune_model` (up to float rounding).
    """
    work = copy.deepcopy(model)
    groups = ChannelGroups(work)
    _check_removal(groups, removal)
    with torch.no_grad():
        _zero_producers(groups, removal)
    return work


def _zero_producers(groups: ChannelGroups, removal: Removal) -> None:
    for unit, per_subgroup in removal.items():
        for sub, idxs in zip(groups.subgroups[unit], per_subgroup):
            if not idxs:
                continue
            for item in groups.group(sub, sorted(set(idxs))):
                layer = item.dep.target.module
                if groups.graph.is_out_channel_pruning_fn(item.dep.handler) and isinstance(layer, nn.Conv2d):
                    layer.weight[item.idxs] = 0
                    if layer.bias is not None:
                        layer.bias[item.idxs] = 0
