"""Which channels a pruning step removes: per layer, globally ranked, or by measured latency; target shapes.

Part of the iterative schedule (:mod:`slimrlfn.prune.schedule`). Widths are those of the units of
:mod:`slimrlfn.prune.units`; every count keeps a unit at or above its minimum and, with ``multiple_of``
m, at a multiple of m (a unit not yet at a multiple first drops to the next one below).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import torch

from slimrlfn.arch.config import validate_config
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.errors import UserError
from slimrlfn.prune.criteria import chunk_cost
from slimrlfn.prune.units import unit_widths

__all__ = ["RANKS", "fraction_count", "next_chunk", "per_layer_count", "plan_counts", "resolve_target_shape"]

#: How a step picks its channels.
RANKS = ("per_layer", "global")


def resolve_target_shape(spec: Any, config: Dict[str, Any]) -> Optional[Dict[str, int]]:
    """The unit widths (:func:`slimrlfn.prune.units.unit_widths`) of a target shape, or None.

    ``spec``: a zoo name (e.g. ``slimrlfn_prune``), a config JSON file, a config dict (missing keys
    from ``config``), a ``prune_channels`` list, or JSON text of one of the last two.
    """
    if spec is None:
        return None
    source = spec
    if isinstance(spec, str) and spec in ZOO:
        spec = dict(ZOO[spec].config)
    elif isinstance(spec, str) and Path(spec).suffix == ".json":
        path = Path(spec)
        if not path.is_file():
            raise UserError(f"--target_shape {path}: no such file")
        try:
            document = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise UserError(f"--target_shape {path}: not valid JSON ({exc})") from None
        spec = document.get("config", document) if isinstance(document, dict) else document
    elif isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError:
            raise UserError(f"--target_shape {source!r}: expected a zoo name ({', '.join(ZOO)}), a config .json, "
                            f"or a JSON list of prune_channels") from None
    if isinstance(spec, (list, tuple)):
        spec = {"prune_channels": list(spec)}
    if not isinstance(spec, dict):
        raise UserError(f"--target_shape {source!r}: expected a config or a prune_channels list")
    merged = {**config, **spec}
    for key in ("arch", "num_blocks", "in_channels", "out_channels", "upscale"):
        if merged[key] != config[key]:
            raise UserError(f"--target_shape {source}: {key}={merged[key]!r} but the starting model has "
                            f"{key}={config[key]!r}; pruning changes widths only")
    try:
        return unit_widths(validate_config(merged))
    except ValueError as exc:
        raise UserError(f"--target_shape {source}: {exc}") from None


def _floor_multiple(value: int, multiple: int) -> int:
    return (value // multiple) * multiple


def per_layer_count(width: int, k: int, multiple: int, minimum: int) -> int:
    """Channels a unit of ``width`` loses in a per-layer step of ``k`` (0 when it is at its minimum)."""
    return max(0, width - max(minimum, _floor_multiple(width - k, multiple)))


def fraction_count(width: int, fraction: float, minimum: int, multiple: int = 1, block: int = 1) -> int:
    """Channels a unit of ``width`` loses in a step of ``fraction`` (0..1): ``floor(width * fraction)`` rounded down
    to ``block``, at least one block; with ``multiple`` m > 1 the width left is rounded down to a multiple of m (and
    of the block) instead. 0 when the width left would be under ``minimum``."""
    count = max(block, int(width * fraction) // block * block)
    if multiple > 1:
        keep = (width - count) // multiple * multiple
        keep -= keep % block
        count = width - keep
    return count if width - count >= max(minimum, block) else 0


def next_chunk(width: int, multiple: int, minimum: int) -> int:
    """Channels down to the next multiple of ``multiple`` below ``width`` (0 when that is under ``minimum``)."""
    new = _floor_multiple(width - 1, multiple)
    return width - new if new >= minimum else 0


# --------------------------------------------------------------------------- planning


def plan_counts(
    widths: Dict[str, int],
    scores: Dict[str, List[torch.Tensor]],
    minimums: Dict[str, int],
    k: int,
    rank: str = "per_layer",
    multiple_of: Union[int, Mapping[str, int]] = 1,
    latency_saved: Optional[Callable[[str, int], float]] = None,
    fraction: Optional[float] = None,
) -> Tuple[Dict[str, int], List[Dict[str, Any]]]:
    """How many channels each unit loses this step: ``({unit: count}, candidate table)``.

    ``widths`` and ``minimums`` cover the units in scope; ``multiple_of`` is one multiple for all or one per unit
    (a unit whose channels go in blocks, through a pixel shuffle, has its block as its multiple). ``fraction``:
    every unit loses that share (:func:`fraction_count`). ``per_layer``: k from every unit; ``global``: chunks
    (down to the next multiple) with the lowest mean normalised score, across units, until k channels are chosen.
    ``latency_saved(unit, count)`` (ms; the schedule times each candidate against the current architecture,
    alternating) switches to latency-aware planning: the candidate "k from unit u" with the most latency saved per
    unit of importance (:func:`slimrlfn.prune.criteria.chunk_cost`) is taken (lowest importance when no candidate
    saves time measurably).
    """
    multiple = (lambda u: int(multiple_of[u])) if isinstance(multiple_of, Mapping) else (lambda u: int(multiple_of))
    table: List[Dict[str, Any]] = []
    if fraction is not None:
        counts = {u: fraction_count(w, fraction, minimums[u], multiple(u), multiple(u)) for u, w in widths.items()}
        return {u: c for u, c in counts.items() if c}, table
    if latency_saved is not None:
        for unit, width in widths.items():
            count = per_layer_count(width, k, multiple(unit), minimums[unit])
            if count:
                cost = chunk_cost(scores[unit], 0, count)
                saved = float(latency_saved(unit, count))
                table.append({"unit": unit, "count": count, "importance": cost, "saved_ms": saved,
                              "saved_per_importance": saved / max(cost, 1e-6)})
        if not table:
            return {}, table
        faster = [row for row in table if row["saved_ms"] > 0]
        best = (max(faster, key=lambda r: r["saved_per_importance"]) if faster
                else min(table, key=lambda r: r["importance"]))
        best["chosen"] = True
        return {best["unit"]: best["count"]}, table
    if rank == "per_layer":
        counts = {u: per_layer_count(w, k, multiple(u), minimums[u]) for u, w in widths.items()}
        return {u: c for u, c in counts.items() if c}, table
    if rank != "global":
        raise ValueError(f"unknown rank {rank!r}; expected one of {list(RANKS)}")
    taken = {u: 0 for u in widths}
    total = 0
    while total < k:
        options = []
        for unit, width in widths.items():
            size = next_chunk(width - taken[unit], multiple(unit), minimums[unit])
            if size:
                options.append((chunk_cost(scores[unit], taken[unit], size), unit, size))
        if not options:
            break
        cost, unit, size = min(options)
        table.append({"unit": unit, "count": size, "importance": cost})
        taken[unit] += size
        total += size
    return {u: c for u, c in taken.items() if c}, table
