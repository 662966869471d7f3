"""The official analysis: the organisers' own measurements of an NTIRE Efficient SR year, re-scored.

Modules, each over the ones before it: :mod:`~slimrlfn.official.results` (their ``results.json`` and
``results.txt``), :mod:`~slimrlfn.official.log` (their log, run by run), :mod:`~slimrlfn.official.rescore`
(runtimes with the first image removed, gates, eligibility, ranks per track, tau, movers),
:mod:`~slimrlfn.official.forwards` (each entry's load-time forward passes), :mod:`~slimrlfn.official.compare`
(a local field against them), :mod:`~slimrlfn.official.analysis` (the document), :mod:`~slimrlfn.official.report`
(the conclusion), :mod:`~slimrlfn.official.command` (``slimrlfn official``). The year's rules come from
:mod:`slimrlfn.metrics.years`; tables are :mod:`slimrlfn.factsheet.official`'s, figures
:mod:`slimrlfn.figures.official`'s. The layer sits over :mod:`slimrlfn.field` (whose ranking helpers and field JSON it
reads) and under the workbook.
"""
from slimrlfn.official.analysis import KIND, analyse_official, find_inputs
from slimrlfn.official.compare import compare_field
from slimrlfn.official.report import conclusion, log_markdown, summary

__all__ = ["KIND", "analyse_official", "compare_field", "conclusion", "find_inputs", "log_markdown", "summary"]
