"""``slimrlfn official``: the organisers' own measurements of a year re-scored with the first image removed.

Reads the organisers' ``results.json`` and log (those of ``--challenge_repo`` unless given), the year's rules
(:mod:`slimrlfn.metrics.years`), loads each entry through the repository's code for its load-time forwards (not
with ``--no_load``, nor without a repository: then they are unknown and the command runs in seconds), and
optionally a local field JSON (``--field``) to compare with. Writes the analysis JSON (``--json``), its tables
(:mod:`slimrlfn.factsheet.official`) and figures (:mod:`slimrlfn.figures.official`), and prints the table and the
conclusion. Every input is read and every output path checked before an entry is loaded or a file written.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from slimrlfn.core.files import atomic_write_json
from slimrlfn.core.outputs import check_output_dir, check_output_file
from slimrlfn.factsheet.field import read_field
from slimrlfn.factsheet.official import comparison_table, official_table, table_markdown, write_official_tables
from slimrlfn.figures.official import write_official_figures
from slimrlfn.official.analysis import analyse_official, find_inputs
from slimrlfn.official.report import conclusion, log_markdown

__all__ = ["add_arguments", "run_from_args", "write_official"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn official`` flags."""
    parser.add_argument("--challenge_repo", default=None,
                        help="an NTIRE ESR challenge repository: its results.json and *EfficientSR*.log, its year, "
                             "and its entries loaded for their load-time forwards")
    parser.add_argument("--results", default=None, help="the organisers' results.json (default: the repository's)")
    parser.add_argument("--log", default=None, help="the organisers' log, NTIRE20XX-EfficientSR.log (default: the "
                                                    "repository's)")
    parser.add_argument("--year", default=None, help="the challenge year whose rules apply (default: the "
                                                     "repository's, else the one the inputs name)")
    parser.add_argument("--no_load", action="store_true",
                        help="do not load the entries: their load-time forwards stay unknown (runs in seconds)")
    parser.add_argument("--field", default=None, help="a local field JSON (slimrlfn field) to compare with")
    parser.add_argument("--drop_first", type=int, default=1,
                        help="how many of the first valid images the re-scored runtime leaves out (default 1: the "
                             "first forward of the process)")
    parser.add_argument("--json", default=None, help="the analysis JSON (default: runs/official/official_<year>.json)")
    parser.add_argument("--figures_dir", default="figures", help="the <prefix>_official_* figures (PNG + PDF)")
    parser.add_argument("--tables_dir", default=None, help="official_<year>.tex/.md/.csv (default: beside --json)")
    parser.add_argument("--prefix", default="06", help="the figures' file-name prefix")
    return parser


def write_official(doc: dict, json_path: Path, figures_dir: Path, tables_dir: Path, prefix: str = "06") -> dict:
    """Write the document's figures, tables and (last, with ``outputs`` and ``conclusion``) the JSON; returns
    ``{"figures", "tables", "json"}``."""
    figures = write_official_figures(doc, figures_dir, prefix)
    tables = write_official_tables(doc, tables_dir, stem=f"official_{doc['year']}")
    doc["conclusion"] = conclusion(doc)
    doc["outputs"] = {"figures": [str(p) for p in figures], "tables": [str(p) for p in tables]}
    atomic_write_json(json_path, doc)
    return {"figures": figures, "tables": tables, "json": json_path}


def run_from_args(args: argparse.Namespace) -> int:
    """Analyse, write, print; exit status 0."""
    _, _, year = find_inputs(args.challenge_repo, args.results, args.log, args.year)
    json_path = check_output_file(args.json or Path("runs/official") / f"official_{year}.json", "--json")
    figures_dir = check_output_dir(args.figures_dir, "--figures_dir")
    tables_dir = check_output_dir(args.tables_dir or json_path.parent, "--tables_dir")
    field: Optional[dict] = read_field(args.field) if args.field else None
    doc = analyse_official(args.results, args.log, year, args.challenge_repo, not args.no_load, field, args.drop_first)
    written = write_official(doc, json_path, figures_dir, tables_dir, args.prefix)
    if doc["entries"]:
        print(table_markdown(official_table(doc)))
    if doc.get("log"):
        print(log_markdown(doc))
    if doc.get("comparison"):
        print(table_markdown(comparison_table(doc)))
    print(doc["conclusion"])
    print(f"\n-> {json_path}; tables: {', '.join(map(str, written['tables']))}; figures: {len(written['figures'])} "
          f"files in {figures_dir}")
    return 0
