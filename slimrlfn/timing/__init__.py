"""The warm-up timing study: protocols, workers (a fresh process per run, or consecutive runs), the study, its report.

Modules, each over the ones before it: :mod:`~slimrlfn.timing.protocols` (``ntire``, ``warm``,
``micro``), :mod:`~slimrlfn.timing.worker` (a block of runs in this or a fresh process),
:mod:`~slimrlfn.timing.study` (scenarios, resume), :mod:`~slimrlfn.timing.report` (seed-style tables,
cold against warm, the conclusion, notebook 04's summary), :mod:`~slimrlfn.timing.command`
(``slimrlfn time``; ``python -m slimrlfn.timing`` is the same).
"""
from slimrlfn.timing.protocols import PROTOCOLS, TimingSettings, make_settings, run_protocol
from slimrlfn.timing.report import cold_warm_summary, conclusion, format_table, summary, warmup_lengths
from slimrlfn.timing.study import SCENARIOS, run_study

__all__ = ["PROTOCOLS", "SCENARIOS", "TimingSettings", "cold_warm_summary", "conclusion", "format_table",
           "make_settings", "run_protocol", "run_study", "summary", "warmup_lengths"]
