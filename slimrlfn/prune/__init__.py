"""Iterative structured pruning: units, dependency groups, criteria, plans, measurements, the schedule, the explorer.

Modules, each over the ones before it: :mod:`~slimrlfn.prune.units` (the prunable widths of a config),
:mod:`~slimrlfn.prune.groups` (Torch-Pruning dependency groups, exact surgery),
:mod:`~slimrlfn.prune.criteria` (importance, a table), :mod:`~slimrlfn.prune.plan` (which channels a step
removes), :mod:`~slimrlfn.prune.measure` (PSNR, counts, paired latency, NTIRE score),
:mod:`~slimrlfn.prune.settings`, :mod:`~slimrlfn.prune.records` (the run folder),
:mod:`~slimrlfn.prune.schedule` (prune, fine-tune, validate, repeat), :mod:`~slimrlfn.prune.explore`
(one run per criterion; notebook 02's summary), :mod:`~slimrlfn.prune.command` (``slimrlfn prune``).
"""
from slimrlfn.prune.criteria import CRITERIA, channel_scores
from slimrlfn.prune.explore import explore, summary
from slimrlfn.prune.groups import ChannelGroups, mask_model, prune_model
from slimrlfn.prune.measure import measure_model, reference_records
from slimrlfn.prune.records import load_records
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings
from slimrlfn.prune.units import UNIT_KINDS, unit_widths, units_of

__all__ = ["CRITERIA", "UNIT_KINDS", "ChannelGroups", "PruneSettings", "channel_scores", "explore", "load_records",
           "mask_model", "measure_model", "prune_iteratively", "prune_model", "reference_records", "summary",
           "unit_widths", "units_of"]
