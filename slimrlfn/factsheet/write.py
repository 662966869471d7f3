"""The NTIRE 2024 factsheet set: tables and figures gathered from the results of notebooks 01-04.

:func:`write_factsheet` reads the results folder (:func:`slimrlfn.factsheet.data.load_inputs`), gathers
the numbers (:func:`~slimrlfn.factsheet.data.gather`), writes the tables
(:func:`slimrlfn.factsheet.tables.write_tables`: LaTeX/booktabs, Markdown, CSV per model and combined,
plus ``factsheet.json``) and the ``05_*`` figures (:func:`slimrlfn.factsheet.figures.write_figures`).
Notebook 05 and ``slimrlfn factsheet`` call it. A missing input stops it with one
:class:`~slimrlfn.core.errors.UserError` line naming the file and the notebook that writes it, before
anything is written.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

from slimrlfn.core.files import PathLike
from slimrlfn.factsheet.data import gather, load_inputs
from slimrlfn.factsheet.figures import crop_data_dir, write_figures
from slimrlfn.factsheet.tables import write_tables

__all__ = ["SUMMARY_KEYS", "summary", "write_factsheet"]

#: The keys of notebook 05's ``05_factsheet.json`` (:func:`summary`).
SUMMARY_KEYS = ("quick", "inputs_quick", "device", "models", "tables_dir", "tables", "figures", "factsheet")



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


def summary(written: Dict[str, Any], quick: bool) -> Dict[str, Any]:
    """Notebook 05's ``05_factsheet.json`` from what :func:`write_factsheet` returned (``quick``: the notebook's mode)."""
    return {"quick": bool(quick), "inputs_quick": written["quick"], "device": written["timing_device"],
            "models": written["models"], "tables_dir": written["out_dir"], "tables": written["tables"],
            "figures": written["figures"], "factsheet": written["factsheet"]}
