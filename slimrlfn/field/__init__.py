"""The field study: a whole challenge field measured as the organisers measured it, ranked cold and warm.

Modules, each over the ones before it: :mod:`~slimrlfn.field.members` (who is in the field),
:mod:`~slimrlfn.field.parts` (the data, in the order it runs), :mod:`~slimrlfn.field.measure` (counts, PSNR),
:mod:`~slimrlfn.field.worker` (timing runs in fresh processes), :mod:`~slimrlfn.field.ranking` (scores, ranks,
Kendall's tau), :mod:`~slimrlfn.field.noise` (runs resampled), :mod:`~slimrlfn.field.analysis` (the derived
numbers of a field document), :mod:`~slimrlfn.field.study` (the run, resume), :mod:`~slimrlfn.field.report`
(the conclusion, notebook 06's summary), :mod:`~slimrlfn.field.command` (``slimrlfn field``).
"""
from slimrlfn.field.analysis import analyse
from slimrlfn.field.ranking import WEIGHTS, kendall_tau
from slimrlfn.field.report import SUMMARY_KEYS, conclusion, gpu_command, noise_markdown, pairs_markdown, summary
from slimrlfn.field.study import run_field

__all__ = ["SUMMARY_KEYS", "WEIGHTS", "analyse", "conclusion", "gpu_command", "kendall_tau", "noise_markdown",
           "pairs_markdown", "run_field", "summary"]
