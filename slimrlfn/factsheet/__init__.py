"""The NTIRE factsheet set: values gathered from the workbook's results, tables, figures, and their writing.

Modules, each over the ones before it: :mod:`~slimrlfn.factsheet.data` (the numbers, read from the
summaries that :mod:`slimrlfn.evaluate`, :mod:`slimrlfn.prune`, :mod:`slimrlfn.timing` and notebook 01
write), :mod:`~slimrlfn.factsheet.tables` (LaTeX / Markdown / CSV), :mod:`~slimrlfn.factsheet.figures`
(the ``05_*`` figures), :mod:`~slimrlfn.factsheet.write` (everything, atomically),
:mod:`~slimrlfn.factsheet.command` (``slimrlfn factsheet``).
"""
from slimrlfn.factsheet.data import QUANTITIES, Factsheet, gather, load_inputs
from slimrlfn.factsheet.tables import csv_table, latex_table, markdown_table, write_tables
from slimrlfn.factsheet.write import write_factsheet

__all__ = ["QUANTITIES", "Factsheet", "csv_table", "gather", "latex_table", "load_inputs", "markdown_table",
           "write_factsheet", "write_tables"]
