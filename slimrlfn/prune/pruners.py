"""The two pruners under the one pruning run (:mod:`slimrlfn.prune.schedule`): what a run asks of a model family.

A pruner knows, for the family of the starting model, its *units* (the widths that can shrink) and their widths,
its channel groups (for the criteria of :mod:`slimrlfn.prune.criteria`), the cut, the counts, a model of given
widths (for latency-aware planning and the reach of a target), and how a step is saved and loaded:

- ``rlfn`` (:class:`RLFNPruner`): RLFN and SlimRLFN (zoo models and workbook checkpoints). Units are the config's
  widths (:mod:`slimrlfn.prune.units`: ``inner``, ``esa``, ``feature`` scopes), the surgery is exact and rebuilt
  from the config (:mod:`slimrlfn.prune.groups`), counts come from the config, steps are workbook checkpoints
  (config + state_dict); ``--target_shape`` and ``--refit_patches`` work here only.
- ``any`` (:class:`AnyPruner`): every other SR network (a class, a challenge entry, a derived model). Units are the
  Torch-Pruning groups that survive their trials (:mod:`slimrlfn.prune.anymodel`), a unit through a pixel shuffle
  goes in blocks of r^2, counts are fvcore's, fine-tuning goes through the inference path, and steps are derived
  models (:mod:`slimrlfn.arch.derived`: the source's reference + every removal so far).

:data:`PRUNERS` is the table: which kinds of model each takes and the command-line defaults it had before the two
became one run. A removal is ``{unit: [indices of each subgroup]}`` in both.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch.nn as nn

from slimrlfn.arch.checkpoints import load_checkpoint, save_checkpoint
from slimrlfn.arch.config import build_model, config_of
from slimrlfn.arch.derived import load_derived, save_derived
from slimrlfn.arch.ref import ModelRef, load_model
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.core.errors import UserError
from slimrlfn.metrics.counts import architecture_counts, count_parameters, fvcore_count
from slimrlfn.prune.anymodel import AnyModelGroups, blocking_layer
from slimrlfn.prune.criteria import channel_scores, lowest
from slimrlfn.prune.groups import ChannelGroups, prune_in_place, rebuild
from slimrlfn.prune.plan import resolve_target_shape
from slimrlfn.prune.units import UNIT_KINDS, config_with_widths, unit_widths, units_of

__all__ = ["PRUNERS", "AnyPruner", "PrunerRow", "RLFNPruner", "lcm", "make_pruner", "pruner_name"]

Removal = Dict[str, List[List[int]]]


class RLFNPruner:
    """RLFN / SlimRLFN, pruned by config widths (see the module docstring)."""

    name = "rlfn"
    inference_mode = False  # fine-tuned in train mode, as SlimRLFN was

    def __init__(self, spec: ModelSpec, scope: Sequence[str]) -> None:
        if spec.config is None:
            raise UserError(f"--model {spec.ref.text()}: not an RLFN or SlimRLFN config")
        self.start_config = spec.config
        self.scope_units = [u.name for u in units_of(spec.config, scope)]

    def widths(self, model: nn.Module) -> Dict[str, int]:
        """The widths of the units in scope."""
        return {u: w for u, w in unit_widths(config_of(model)).items() if u in self.scope_units}

    def all_widths(self, model: nn.Module) -> Dict[str, int]:
        """The widths of every unit of the architecture (a target shape covers them all)."""
        return unit_widths(config_of(model))

    def blocks(self) -> Dict[str, int]:
        return {u: 1 for u in self.scope_units}

    def groups(self, model: nn.Module) -> ChannelGroups:
        return ChannelGroups(model)

    def cut(self, groups: ChannelGroups, removal: Removal) -> nn.Module:
        prune_in_place(groups, removal)
        return rebuild(groups.model)

    def describe(self, model: nn.Module) -> Dict[str, Any]:
        """``{"config", "widths"}`` of a step's record."""
        config = config_of(model)
        return {"config": config, "widths": unit_widths(config)}

    def counts(self, model: nn.Module) -> Dict[str, float]:
        return architecture_counts(config_of(model))

    def with_widths(self, model: nn.Module, widths: Mapping[str, int]) -> nn.Module:
        """A model (fresh weights) of ``model``'s architecture with some units at other widths."""
        return build_model(config_with_widths(config_of(model), dict(widths)))

    def target_widths(self, target: Any) -> Optional[Dict[str, int]]:
        return resolve_target_shape(target, self.start_config)

    def save(self, model: nn.Module, path: Path, removals: Sequence[Removal], extra: Mapping[str, Any]) -> Path:
        return save_checkpoint(model, path, extra=dict(extra))

    def load(self, path: Path) -> nn.Module:
        return load_checkpoint(path)[0]


class AnyPruner:
    """Any other SR network, pruned through its Torch-Pruning groups (see the module docstring)."""

    name = "any"
    inference_mode = True  # the training branches a unit's trial does not see are not pruned

    def __init__(self, spec: ModelSpec, scope: Sequence[str]) -> None:
        if list(scope) != ["inner"]:
            raise UserError(f"--scope {' '.join(scope)}: only for RLFN and SlimRLFN (their {', '.join(UNIT_KINDS)} "
                            f"widths); any other network is pruned in every channel group that can lose channels")
        self.spec = spec
        found = AnyModelGroups(copy.deepcopy(spec.model), spec.data_range)
        if not found.units:
            raise UserError(f"{spec.label} cannot be pruned: no channel group can lose a channel "
                            f"(blocking: {blocking_layer(found.left_alone, spec.model)})")
        self.units = {name: unit.block for name, unit in found.units.items()}
        self.left_alone = dict(found.left_alone)

    def widths(self, model: nn.Module) -> Dict[str, int]:
        modules = dict(model.named_modules())
        return {name: modules[name].out_channels for name in self.units}

    all_widths = widths

    def blocks(self) -> Dict[str, int]:
        return dict(self.units)

    def groups(self, model: nn.Module) -> AnyModelGroups:
        return AnyModelGroups(model, self.spec.data_range, trial=False, names=list(self.units))

    def cut(self, groups: AnyModelGroups, removal: Removal) -> nn.Module:
        groups.prune({unit: per_subgroup[0] for unit, per_subgroup in removal.items()})
        return groups.model

    def describe(self, model: nn.Module) -> Dict[str, Any]:
        return {"config": None, "widths": self.widths(model)}

    def counts(self, model: nn.Module) -> Dict[str, float]:
        flops = fvcore_count(model)
        params = count_parameters(model)
        return {"params": params, "params_m": params / 1e6, "flops": flops["flops"], "flops_g": flops["flops"] / 1e9,
                "fvcore_uncounted": flops["uncounted"]}

    def with_widths(self, model: nn.Module, widths: Mapping[str, int]) -> nn.Module:
        """A copy of ``model`` with some units cut to other widths (the lowest L1 channels)."""
        work = copy.deepcopy(model)
        groups = self.groups(work)
        scores = channel_scores(groups, "l1")
        now = self.widths(work)
        removal = {u: [lowest(scores[u][0], now[u] - w, self.units[u])] for u, w in widths.items() if w < now[u]}
        return self.cut(groups, removal) if removal else work

    def target_widths(self, target: Any) -> Optional[Dict[str, int]]:
        if target is not None:
            raise UserError("--target_shape: only for RLFN and SlimRLFN (a config of widths); use --target_params, "
                            "--target_flops, --target_latency, --psnr_floor or --max_steps")
        return None

    def save(self, model: nn.Module, path: Path, removals: Sequence[Removal], extra: Mapping[str, Any]) -> Path:
        flat = [{unit: per_subgroup[0] for unit, per_subgroup in removal.items()} for removal in removals]
        return save_derived(model, path, self.spec.ref.to_json(), flat, self.spec.data_range,
                            {"label": extra.get("label", self.spec.label), "tile": self.spec.tile, "meta": dict(extra)})

    def load(self, path: Path) -> nn.Module:
        return load_derived(path, load_model)[0]


@dataclass(frozen=True)
class PrunerRow:
    """One pruner: what builds it, the kinds of model it takes, and the command line's defaults for it."""

    build: Callable[[ModelSpec, Sequence[str]], Any]
    kinds: Tuple[str, ...]
    cli_defaults: Mapping[str, Any] = field(default_factory=dict)


#: The pruners, by name.
PRUNERS: Dict[str, PrunerRow] = {
    "rlfn": PrunerRow(RLFNPruner, ("zoo", "checkpoint")),
    "any": PrunerRow(AnyPruner, ("class", "challenge", "derived"),
                     {"fraction": 0.1, "max_steps": 3, "min_channels": 4, "batch_size": 8, "lr_patch": 32,
                      "latency_runs": 7, "out_dir": "runs/prune_any"}),
}


def pruner_name(ref: ModelRef) -> str:
    """The pruner of a model reference's kind."""
    return next(name for name, row in PRUNERS.items() if ref.kind in row.kinds)


def make_pruner(spec: ModelSpec, scope: Sequence[str]) -> Any:
    """The pruner of ``spec`` (:data:`PRUNERS`), its units found."""
    return PRUNERS[pruner_name(spec.ref)].build(spec, scope)


def lcm(a: int, b: int) -> int:
    return a * b // math.gcd(a, b)
