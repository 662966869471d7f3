"""``slimrlfn field``: the field study from the command line (``python -m slimrlfn.field`` is the same).

Measures the field (:func:`slimrlfn.field.study.run_field`), writes its JSON, the three figures
(:mod:`slimrlfn.figures.field`) and the factsheet's field table (:mod:`slimrlfn.factsheet.field`), and
prints the table and the conclusion.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Tuple

from slimrlfn.arch.arguments import add_models_arguments
from slimrlfn.core.arguments import parse_size
from slimrlfn.core.errors import UserError
from slimrlfn.core.outputs import check_output_dir, check_output_file
from slimrlfn.factsheet.field import field_markdown, write_field_tables
from slimrlfn.field.report import conclusion, gpu_command
from slimrlfn.field.study import run_field
from slimrlfn.figures.field import write_field_figures

__all__ = ["add_arguments", "parse_pairs", "run_from_args"]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn field`` flags."""
    add_models_arguments(parser, [], default_text="none; more members beside the entries, e.g. slimrlfn_prune")
    parser.add_argument("--data_dir", nargs="+", required=True,
                        help="NTIRE-layout data (valid, then test) or benchmark sets such as Set5 Set14, in order")
    parser.add_argument("--valid_only", action="store_true", help="NTIRE-layout data: the valid split only")
    parser.add_argument("--runs", type=int, default=5, help="runs per protocol (the organisers averaged 5)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, default=None, help="CPU intra-op threads (default: torch's)")
    parser.add_argument("--micro_warmup", type=int, default=3, help="micro protocol: untimed forwards per shape")
    parser.add_argument("--micro_iters", type=int, default=10, help="micro protocol: timed forwards per shape (0: none)")
    parser.add_argument("--micro_sizes", nargs="+", default=None, help="micro protocol: LR sizes HxW (default 256x256)")
    parser.add_argument("--no_variants", action="store_true", help="no use_prune variants of the entries")
    parser.add_argument("--baseline", default=None, help="the key scores are relative to (default: the 00_ entry)")
    parser.add_argument("--year", default=None,
                        help="the challenge year whose weights rank the field first (default: the repository's "
                             "year, else 2024); the other weightings are ranked beside it")
    parser.add_argument("--pairs", nargs="+", default=None,
                        help="PARENT:CHILD keys of variants to compare (default: found by name, e.g. 38_SPAN:39_SPANtiny)")
    parser.add_argument("--out", default="runs/field/field.json",
                        help="the field JSON; an existing one with the same data and device is resumed")
    parser.add_argument("--overwrite", action="store_true", help="start again even if --out exists")
    parser.add_argument("--figures_dir", default="figures", help="the 06_field_* figures (PNG + PDF)")
    parser.add_argument("--tables_dir", default=None, help="field.tex/.md/.csv (default: beside --out)")
    return parser


def parse_pairs(texts: List[str]) -> List[Tuple[str, str]]:
    """``['38_SPAN:39_SPANtiny']`` -> ``[('38_SPAN', '39_SPANtiny')]``; UserError for anything else."""
    pairs = []
    for text in texts:
        parent, sep, child = text.partition(":")
        if not sep or not parent or not child:
            raise UserError(f"--pairs {text}: expected PARENT:CHILD, two member keys such as 38_SPAN:39_SPANtiny")
        pairs.append((parent, child))
    return pairs


def run_from_args(args: argparse.Namespace) -> int:
    """Run the field, write its figures and tables, print them; the exit status is 0 when the field was ranked
    and every member that loaded was measured (members that cannot load are listed with why), 1 otherwise."""
    sizes = [parse_size(s, "--micro_sizes") for s in args.micro_sizes] if args.micro_sizes else None
    pairs = parse_pairs(args.pairs) if args.pairs else None
    check_output_file(args.out, "--out")
    check_output_dir(args.figures_dir, "--figures_dir")
    if args.tables_dir:
        check_output_dir(args.tables_dir, "--tables_dir")
    doc = run_field(args.challenge_repo, args.model_ids, args.models, args.data_dir, args.runs, args.device,
                    args.threads, args.micro_warmup, args.micro_iters, sizes, not args.valid_only,
                    not args.no_variants, args.baseline, pairs, args.out, args.overwrite, year=args.year)
    tables = write_field_tables(doc, args.tables_dir or Path(args.out).parent)
    figures = write_field_figures(doc, args.figures_dir) if doc["ranking"]["ranked"] else []
    print(field_markdown(doc))
    print(conclusion(doc))
    if (doc.get("device_info") or {}).get("device_type") != "cuda":
        print(f"\nOn a GPU: {gpu_command(doc)}")
    print(f"\n-> {args.out}; tables: {', '.join(map(str, tables))}; figures: {len(figures)} files in {args.figures_dir}")
    broken = [e for e in doc["entries"] if e["status"] == "error" and e.get("kind")]  # loaded, then failed
    return 0 if doc["ranking"]["ranked"] and not broken else 1
