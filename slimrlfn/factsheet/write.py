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

from slimrlfn.core.files import PathLike, public_path
from slimrlfn.factsheet.data import gather, load_inputs
from slimrlfn.factsheet.figures import write_figures
from slimrlfn.factsheet.tables import write_tables

__all__ = ["SUMMARY_KEYS", "summary", "write_factsheet"]

#: The keys of notebook 05's ``05_factsheet.json`` (:func:`summary`).
SUMMARY_KEYS = ("quick", "inputs_quick", "device", "models", "tables_dir", "tables", "figures", "factsheet")



def write_factsheet(
    results_dir: PathLike = "runs/workbook/results",
    figures_dir: PathLike = "figures",
    out_dir: Optional[PathLike] = None,
) -> Dict[str, Any]:
    """Write the tables to ``out_dir`` (default ``<results_dir>/factsheet``) and the figures to ``figures_dir``.

    The SR crops are notebook 03's own figure (``03_sr_crops``), not saved again.
    Returns ``{"results_dir", "out_dir", "figures_dir", "models", "quick", "timing_device", "tables",
    "figures", "factsheet"}``: paths as strings, ``quick`` whether any input came from a quick-mode run,
    ``timing_device`` the device of notebook 04's timings, ``factsheet`` the values as ``factsheet.json``
    holds them.
    """
    inputs = load_inputs(results_dir)
    sheet = gather(inputs)
    out = Path(out_dir) if out_dir else Path(results_dir) / "factsheet"
    tables = write_tables(sheet, out)
    figures = write_figures(inputs, figures_dir)
    return {"results_dir": str(results_dir), "out_dir": str(out), "figures_dir": str(figures_dir),
            "models": sheet.models, "quick": sheet.quick, "timing_device": str(inputs.timing["device"]),
            "tables": [str(p) for p in tables],
            "figures": [str(p) for p in figures], "factsheet": sheet.to_json()}


def summary(written: Dict[str, Any], quick: bool) -> Dict[str, Any]:
    """Notebook 05's ``05_factsheet.json`` from what :func:`write_factsheet` returned (``quick``: the notebook's mode);
    the files named relative to the checkout (:func:`slimrlfn.core.files.public_path`)."""
    return {"quick": bool(quick), "inputs_quick": written["quick"], "device": written["timing_device"],
            "models": written["models"], "tables_dir": public_path(written["out_dir"]),
            "tables": [public_path(p) for p in written["tables"]],
            "figures": [public_path(p) for p in written["figures"]], "factsheet": written["factsheet"]}
