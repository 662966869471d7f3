"""The NTIRE 2024 factsheet set: tables and figures gathered from the results of notebooks 01-04.

:func:`write_factsheet` reads the results folder (:func:`slimrlfn.factsheet_data.load_inputs`), gathers
the numbers (:func:`~slimrlfn.factsheet_data.gather`), writes the tables
(:func:`slimrlfn.factsheet_tables.write_tables`: LaTeX/booktabs, Markdown, CSV per model and combined,
plus ``factsheet.json``) and the ``05_*`` figures (:func:`slimrlfn.factsheet_figures.write_figures`).
Notebook 05 and ``slimrlfn factsheet`` call it. A missing input stops it with one
:class:`~slimrlfn.errors.UserError` line naming the file and the notebook that writes it, before
anything is written.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict, Optional, Union

from .factsheet_data import gather, load_inputs
from .factsheet_figures import crop_data_dir, write_figures
from .factsheet_tables import write_tables

__all__ = ["add_factsheet_arguments", "run_factsheet_from_args", "write_factsheet"]

PathLike = Union[str, Path]


def write_factsheet(
    results_dir: PathLike = "runs/workbook/results",
    figures_dir: PathLike = "figures",
    out_dir: Optional[PathLike] = None,
    data_dir: Optional[PathLike] = None,
) -> Dict[str, Any]:
    """Write the tables to ``out_dir`` (default ``<results_dir>/factsheet``) and the figures to ``figures_dir``.

    ``data_dir`` is the NTIRE-layout data of the SR crops (default: the folder notebook 03 recorded).
    Returns ``{"results_dir", "out_dir", "figures_dir", "models", "quick", "timing_device", "tables",
    "figures", "factsheet"}``: paths as strings, ``quick`` whether any input came from a quick-mode run,
    ``timing_device`` the device of notebook 04's timings, ``factsheet`` the values as ``factsheet.json``
    holds them.
    """
    inputs = load_inputs(results_dir)
    crop_data_dir(inputs, data_dir)  # fail on a missing data folder before writing anything
    sheet = gather(inputs)
    out = Path(out_dir) if out_dir else Path(results_dir) / "factsheet"
    tables = write_tables(sheet, out)
    figures = write_figures(inputs, figures_dir, data_dir)
    return {"results_dir": str(results_dir), "out_dir": str(out), "figures_dir": str(figures_dir),
            "models": sheet.models, "quick": sheet.quick, "timing_device": str(inputs.timing["device"]),
            "tables": [str(p) for p in tables],
            "figures": [str(p) for p in figures], "factsheet": sheet.to_json()}


def add_factsheet_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn factsheet`` flags; returns ``parser``."""
    parser.add_argument("--results_dir", default="runs/workbook/results",
                        help="where notebooks 01-04 wrote their results (the workbook's results folder)")
    parser.add_argument("--figures_dir", default="figures", help="the 05_* figures go here (PNG + PDF)")
    parser.add_argument("--out_dir", default=None,
                        help="the tables go here (LaTeX, Markdown, CSV, JSON; default: <results_dir>/factsheet)")
    parser.add_argument("--data_dir", default=None,
                        help="NTIRE-layout data for the SR crops (default: the folder notebook 03 evaluated)")
    return parser


def run_factsheet_from_args(args: argparse.Namespace) -> int:
    """Run :func:`write_factsheet` with parsed flags, print the combined table and the files; returns 0."""
    summary = write_factsheet(args.results_dir, args.figures_dir, args.out_dir, args.data_dir)
    print((Path(summary["out_dir"]) / "factsheet.md").read_text())
    print(f"tables ({len(summary['tables'])} files) in {summary['out_dir']}; "
          f"figures ({len(summary['figures'])} files) in {summary['figures_dir']}")
    return 0
