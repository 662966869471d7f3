"""The evaluation as NTIRE's ``test_demo.py`` does it, its results files, and notebook 03's summary.

Modules: :mod:`~slimrlfn.evaluate.results` (``results.json`` / ``results.txt``),
:mod:`~slimrlfn.evaluate.ntire` (per-image forwards, PSNR / SSIM, runtime, memory),
:mod:`~slimrlfn.evaluate.report` (notebook 03's tables and JSON), :mod:`~slimrlfn.evaluate.command`
(``slimrlfn eval``; ``python -m slimrlfn.evaluate`` is the same).
"""
from slimrlfn.evaluate.ntire import evaluate, evaluate_split
from slimrlfn.evaluate.report import split_table, summary
from slimrlfn.evaluate.results import format_results_table, load_results

__all__ = ["evaluate", "evaluate_split", "format_results_table", "load_results", "split_table", "summary"]
