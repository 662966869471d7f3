"""``slimrlfn factsheet``: the NTIRE factsheet set from the results of notebooks 01-04 (see :mod:`slimrlfn.factsheet.write`),
or with ``--field`` the field table of a field JSON (:mod:`slimrlfn.factsheet.field`)."""
from __future__ import annotations

import argparse
from pathlib import Path

from slimrlfn.core.outputs import check_output_dir
from slimrlfn.factsheet.field import field_markdown, read_field, write_field_tables
from slimrlfn.factsheet.write import write_factsheet

__all__ = ["add_factsheet_arguments", "run_factsheet_from_args"]


def add_factsheet_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn factsheet`` flags; returns ``parser``."""
    parser.add_argument("--results_dir", default="runs/workbook/results",
                        help="where notebooks 01-04 wrote their results (the workbook's results folder)")
    parser.add_argument("--figures_dir", default="figures", help="the 05_* figures go here (PNG + PDF)")
    parser.add_argument("--out_dir", default=None,
                        help="the tables go here (LaTeX, Markdown, CSV, JSON; default: <results_dir>/factsheet)")
    parser.add_argument("--field", default=None,
                        help="a field JSON (slimrlfn field, notebook 06): its table only (field.tex/.md/.csv in --out_dir)")
    return parser


def run_factsheet_from_args(args: argparse.Namespace) -> int:
    """Run :func:`write_factsheet` with parsed flags, print the combined table and the files; returns 0.

    With ``--field``, write and print the field table of that JSON instead.
    """
    out_dir = check_output_dir(args.out_dir or Path(args.results_dir) / "factsheet", "--out_dir")
    if args.field:
        doc = read_field(args.field)
        paths = write_field_tables(doc, out_dir)
        print(field_markdown(doc))
        print(f"tables: {', '.join(map(str, paths))}")
        return 0
    check_output_dir(args.figures_dir, "--figures_dir")
    summary = write_factsheet(args.results_dir, args.figures_dir, args.out_dir)
    print((Path(summary["out_dir"]) / "factsheet.md").read_text())
    print(f"tables ({len(summary['tables'])} files) in {summary['out_dir']}; "
          f"figures ({len(summary['figures'])} files) in {summary['figures_dir']}")
    return 0
