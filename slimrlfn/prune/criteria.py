"""How important each channel of a group is: the pruning criteria, a table of Torch-Pruning importance classes.

Scores are per channel of each subgroup of :class:`slimrlfn.prune.groups.ChannelGroups` (RLFN / SlimRLFN) or
:class:`slimrlfn.prune.anymodel.AnyModelGroups` (any other network: the same interface), normalised
by the subgroup's mean (higher = more important), so they can be ranked across groups:

- ``l1`` / ``l2``: weight magnitude, ``MagnitudeImportance(p=1 | 2)``. With ``reduction="mean"``
  (default) the norms of every weight slice the channel's removal deletes (the filters producing
  it and the kernels reading it) averaged over the group's layers (group norm, DepGraph); with
  ``reduction="first"`` only the root layer's output filter (the filter norm of Li et al.,
  "Pruning Filters for Efficient ConvNets", ICLR 2017).
- ``taylor``: first-order Taylor ``|w * dL/dw|`` summed over the same slices
  (``TaylorImportance``; Molchanov et al., CVPR 2019); needs gradients accumulated first
  (:func:`accumulate_gradients`).
- ``random``: ``RandomImportance``, the control.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, Iterable, List, Sequence, Tuple

import torch
import torch.nn as nn
import torch_pruning as tp


__all__ = ["CRITERIA", "REDUCTIONS", "accumulate_gradients", "channel_scores", "chunk_cost", "importance", "lowest"]

#: How a channel's scores over the layers of its group are combined (Torch-Pruning's ``group_reduction``).
REDUCTIONS = ("mean", "first")

#: Criterion name -> factory of its Torch-Pruning importance, given the reduction.
CRITERIA: Dict[str, Callable[[str], Any]] = {
    "l1": lambda reduction: tp.importance.MagnitudeImportance(p=1, group_reduction=reduction, normalizer="mean"),
    "l2": lambda reduction: tp.importance.MagnitudeImportance(p=2, group_reduction=reduction, normalizer="mean"),
    "taylor": lambda reduction: tp.importance.TaylorImportance(group_reduction=reduction, normalizer="mean"),
    "random": lambda reduction: tp.importance.RandomImportance(),
}


def importance(criterion: str, reduction: str = "mean") -> Any:
    """The Torch-Pruning importance of ``criterion`` (:data:`CRITERIA`) with ``reduction`` (:data:`REDUCTIONS`)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; expected one of {list(REDUCTIONS)}")
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; expected one of {list(CRITERIA)}")
    return CRITERIA[criterion](reduction)


def accumulate_gradients(model: nn.Module, batches: Iterable[Tuple[torch.Tensor, torch.Tensor]],
                         loss_fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]) -> int:
    """Sum ``d loss_fn(sr, lr, hr) / d weights`` over ``batches`` of ``(lr, hr)`` into ``.grad`` (for ``taylor``).

    Gradients are zeroed first; returns the number of batches used.
    """
    model.zero_grad(set_to_none=True)
    param = next(model.parameters())
    count = 0
    for lr, hr in batches:
        lr, hr = lr.to(param.device), hr.to(param.device)
        loss_fn(model(lr), lr, hr).backward()
        count += 1
    if count == 0:
        raise ValueError("accumulate_gradients needs at least one batch")
    return count


def channel_scores(groups: Any, criterion: str, reduction: str = "mean",
                   seed: int = 0) -> Dict[str, List[torch.Tensor]]:
    """Per-channel importance of every subgroup: ``{unit name: [scores of each subgroup]}`` (float64, CPU).

    Scores are normalised by their subgroup's mean (higher = more important). ``taylor`` reads the
    gradients already in ``.grad`` (:func:`accumulate_gradients`); ``random`` is seeded by ``seed``.
    """
    imp = importance(criterion, reduction)
    if criterion == "taylor" and all(p.grad is None for p in groups.model.parameters()):
        raise ValueError("the taylor criterion needs gradients: call accumulate_gradients first")
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        scores: Dict[str, List[torch.Tensor]] = {}
        for unit, subgroups in groups.subgroups.items():
            values = []
            for sub in subgroups:
                score = imp(groups.group(sub, range(sub.size)))
                if score is None:
                    raise RuntimeError(f"no importance for the channels of {sub.root_name}")
                values.append(score.detach().to("cpu", torch.float64))
            scores[unit] = values
        return scores
    finally:
        torch.random.set_rng_state(generator_state)


def lowest(scores: torch.Tensor, count: int, block: int = 1) -> List[int]:
    """Indices of the ``count`` lowest scores, ties to the lower index, sorted ascending. With ``block`` b > 1 the
    channels go in whole blocks ``[j b, (j + 1) b)`` (channels regrouped by a pixel shuffle): the ``count // b``
    blocks with the lowest summed scores."""
    if count <= 0:
        return []
    if block > 1:
        sums = [float(sum(float(v) for v in scores[j * block:(j + 1) * block])) for j in range(len(scores) // block)]
        chosen = sorted(range(len(sums)), key=lambda j: (sums[j], j))[: count // block]
        return sorted(j * block + k for j in chosen for k in range(block))
    order = sorted(range(len(scores)), key=lambda i: (float(scores[i]), i))
    return sorted(order[:count])


def chunk_cost(scores: Sequence[torch.Tensor], start: int, count: int) -> float:
    """Mean normalised score of the channels ranked ``start .. start+count-1`` (lowest first) over the subgroups."""
    total, n = 0.0, 0
    for s in scores:
        ordered = sorted(float(v) for v in s)
        total += sum(ordered[start:start + count])
        n += count
    return total / n if n else math.inf
