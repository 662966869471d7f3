"""The prunable widths of an RLFN / SlimRLFN config ("units"), and configs with some of them changed.

Units, named after the layers of :mod:`slimrlfn.arch.widths`: ``bN.c1_r`` and ``bN.c2_r`` (kind
``inner``: the official ``prune_channels``), ``bN.esa`` (kind ``esa``: the ESA width of block N) and
``features`` (kind ``feature``: ``feature_channels``, coupled through every residual). Reads and
writes configs only (:mod:`slimrlfn.arch.config`), never builds a model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from slimrlfn.arch.config import validate_config
from slimrlfn.arch.rlfn import esa_widths

__all__ = ["UNIT_KINDS", "Unit", "config_with_widths", "unit_widths", "units_of"]

#: Kinds of prunable widths, in config order.
UNIT_KINDS = ("inner", "esa", "feature")


@dataclass(frozen=True)
class Unit:
    """One prunable width of a config: ``name`` (``b3.c1_r``, ``b3.esa``, ``features``), its kind and place.

    ``block`` is 0-based (``None`` for ``features``); ``slot`` is the index into ``prune_channels``
    for an inner unit, the block for an ESA unit, 0 for ``features``.
    """

    name: str
    kind: str
    block: Optional[int]
    slot: int


def units_of(config: Dict[str, Any], kinds: Sequence[str] = UNIT_KINDS) -> List[Unit]:
    """The prunable units of ``config`` of the given kinds, in forward order (block by block, features last)."""
    unknown = [k for k in kinds if k not in UNIT_KINDS]
    if unknown:
        raise ValueError(f"unknown unit kinds {unknown}; expected some of {list(UNIT_KINDS)}")
    config = validate_config(config)
    units: List[Unit] = []
    for i in range(config["num_blocks"]):
        if "inner" in kinds:
            units += [Unit(f"b{i + 1}.c1_r", "inner", i, 2 * i), Unit(f"b{i + 1}.c2_r", "inner", i, 2 * i + 1)]
        if "esa" in kinds:
            units.append(Unit(f"b{i + 1}.esa", "esa", i, i))
    if "feature" in kinds:
        units.append(Unit("features", "feature", None, 0))
    return units


def unit_widths(config: Dict[str, Any], kinds: Sequence[str] = UNIT_KINDS) -> Dict[str, int]:
    """``{unit name: width}`` of ``config`` for the given kinds."""
    config = validate_config(config)
    esa = esa_widths(config["esa_channels"], config["num_blocks"])
    widths = {}
    for unit in units_of(config, kinds):
        if unit.kind == "inner":
            widths[unit.name] = config["prune_channels"][unit.slot]
        elif unit.kind == "esa":
            widths[unit.name] = esa[unit.slot]
        else:
            widths[unit.name] = config["feature_channels"]
    return widths


def config_with_widths(config: Dict[str, Any], widths: Dict[str, int]) -> Dict[str, Any]:
    """A copy of ``config`` with the named units set to the given widths (other widths unchanged)."""
    config = validate_config(config)
    units = {u.name: u for u in units_of(config)}
    prune = list(config["prune_channels"])
    esa = esa_widths(config["esa_channels"], config["num_blocks"])
    features = config["feature_channels"]
    for name, width in widths.items():
        if name not in units:
            raise ValueError(f"unknown unit {name!r}; expected one of {list(units)}")
        unit = units[name]
        if unit.kind == "inner":
            prune[unit.slot] = int(width)
        elif unit.kind == "esa":
            esa[unit.slot] = int(width)
        else:
            features = int(width)
    return validate_config({**config, "prune_channels": prune, "esa_channels": esa, "feature_channels": features})
