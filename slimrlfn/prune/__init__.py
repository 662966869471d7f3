"""Iterative structured pruning of any SR network: units, groups, criteria, plans, measurements, the one run.

Modules, each over the ones before it: :mod:`~slimrlfn.prune.units` (the prunable widths of an RLFN / SlimRLFN
config), :mod:`~slimrlfn.prune.criteria` (importance, a table), :mod:`~slimrlfn.prune.groups` (their Torch-Pruning
dependency groups, exact surgery), :mod:`~slimrlfn.prune.plan` (which channels a step removes),
:mod:`~slimrlfn.prune.anymodel` (the groups of any other network), :mod:`~slimrlfn.prune.pruners` (the two
pruners, a table), :mod:`~slimrlfn.prune.measure` (PSNR, counts, paired latency, NTIRE score),
:mod:`~slimrlfn.prune.settings` (one settings record), :mod:`~slimrlfn.prune.records` (one run folder),
:mod:`~slimrlfn.prune.stops` (minimums, targets, stop reasons), :mod:`~slimrlfn.prune.refit`,
:mod:`~slimrlfn.prune.schedule` (the one run: prune, fine-tune, validate, repeat), :mod:`~slimrlfn.prune.explore`
(one run per criterion; notebook 02's summary), :mod:`~slimrlfn.prune.command` (``slimrlfn prune``).
"""
from slimrlfn.prune.criteria import CRITERIA, channel_scores
from slimrlfn.prune.explore import explore, summary
from slimrlfn.prune.groups import ChannelGroups, mask_model, prune_model
from slimrlfn.prune.measure import measure_model, reference_records
from slimrlfn.prune.pruners import PRUNERS
from slimrlfn.prune.records import load_records
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings
from slimrlfn.prune.units import UNIT_KINDS, unit_widths, units_of

__all__ = ["CRITERIA", "PRUNERS", "UNIT_KINDS", "ChannelGroups", "PruneSettings", "channel_scores", "explore", "load_records",
           "mask_model", "measure_model", "prune_iteratively", "prune_model", "reference_records", "summary",
           "unit_widths", "units_of"]
