"""The factsheet's field table: a challenge field ranked under the official (cold) and the warm runtime.

Read from a field document (:func:`slimrlfn.field.study.run_field`, as written to JSON), never from models.
One row per entry that was measured, in cold-rank order: ranks cold and warm under the field's own year's weights,
the places gained when warm, the ranks under every other year it ranks (2026 beside 2024 by default; weights from
the year records, :mod:`slimrlfn.metrics.years`, which also read field JSON from before them), the forward passes
its own code runs while it loads (a warm-up before the first timed image; blank where unknown), params (M), FLOPs
(G, fvcore; ``*`` where fvcore skipped operators that are not element-wise), PSNR per data part (dB), the runtimes
(ms, mean ± sd over runs) and the own year's scores. Entries that failed follow as notes with their one-line
reason; the device, the runs and Kendall's tau close the table. :func:`write_field_tables` writes LaTeX (booktabs),
Markdown and CSV atomically.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Dict, List, Optional

from slimrlfn.core.devices import device_text
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_text, read_json
from slimrlfn.factsheet.tables import latex_escape
from slimrlfn.metrics.years import YEARS, document_years, year_value

__all__ = ["field_columns", "field_csv", "field_latex", "field_markdown", "field_notes", "field_rows", "read_field",
           "write_field_tables"]

def read_field(path: PathLike) -> Dict[str, Any]:
    """The field document at ``path``; UserError (one line) when it is missing or not a field JSON."""
    doc = read_json(path, "--field")
    if not isinstance(doc, dict) or doc.get("kind") != "slimrlfn-field" or "ranking" not in doc:
        raise UserError(f"--field {path}: not a field results file (expected what slimrlfn field writes)")
    return doc


def _fmt(value: Optional[float], decimals: int) -> str:
    return "" if value is None else f"{value:.{decimals}f}"


def _ms(mean: Optional[float], sd: Optional[float]) -> str:
    if mean is None:
        return ""
    return f"{mean:.2f}" + (f" \u00b1 {sd:.2f}" if sd is not None else "")


def _other_years(doc: Dict[str, Any]) -> List[str]:
    year, years = document_years(doc)
    return [y for y in years if y != year]


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _tau(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def field_columns(doc: Dict[str, Any]) -> List[str]:
    """The column headers, the PSNR of each data part among them."""
    parts = [p["label"] for p in doc["parts"]]
    ranks = [f"Rank {protocol} {y}" for y in _other_years(doc) for protocol in ("cold", "warm")]
    return (["Rank cold", "Rank warm", "Up when warm", *ranks, "Entry", "Load fwd",
             "Params [M]", "FLOPs [G]"] + [f"PSNR {label} [dB]" for label in parts]
            + ["Cold [ms]", "Warm [ms]", "Score cold", "Score warm"])


def field_rows(doc: Dict[str, Any]) -> List[List[str]]:
    """One row of text cells per measured entry, in cold-rank order (then the unranked ones)."""
    entries = [e for e in doc["entries"] if e.get("measures")]
    entries.sort(key=lambda e: (e.get("rank_cold") is None, e.get("rank_cold") or 0))
    rows = []
    for e in entries:
        m = e["measures"]
        up = None if e.get("rank_cold") is None or e.get("rank_warm") is None else e["rank_cold"] - e["rank_warm"]
        rows.append([
            "" if e.get("rank_cold") is None else str(e["rank_cold"]),
            "" if e.get("rank_warm") is None else str(e["rank_warm"]),
            "" if up is None else (f"{up:+d}" if up else "0"),
            *[_cell(year_value(e, f"rank_{protocol}", y)) for y in _other_years(doc) for protocol in ("cold", "warm")],
            e["key"] + (" (baseline)" if e["key"] == doc.get("baseline") else ""),
            "" if e.get("load_forwards") is None else str(e["load_forwards"]),
            _fmt(m["num_parameters"], 4),
            _fmt(m["flops"], 2) + ("*" if m.get("flops_undercount") else ""),
            *[_fmt(m["psnr"].get(p["label"]), 3) for p in doc["parts"]],
            _ms(e.get("runtime_cold_ms"), e.get("runtime_cold_sd")),
            _ms(e.get("runtime_warm_ms"), e.get("runtime_warm_sd")),
            _fmt(e.get("score_cold"), 3), _fmt(e.get("score_warm"), 3),
        ])
    return rows


#: The first note of a field table from a quick-mode run.
QUICK_FIELD_NOTE = ("Quick mode: a few entries, runs and images, to check that everything runs; not a result "
                    "(the workbook's full mode, or slimrlfn field, gives one).")


def field_notes(doc: Dict[str, Any], quick: bool = False) -> List[str]:
    """The lines under the table: what was measured, where, tau, the undercounts and the failures; first, with
    ``quick``, that this is a quick-mode run."""
    ranking = doc.get("ranking", {})
    warm_runs = max(doc["runs"] - 1, 0)
    year, years = document_years(doc)
    taus = "; ".join(f"{y} weights: {_tau(year_value(ranking, 'tau', y))}" for y in years if y != year)
    weights = "; ".join(f"{'/'.join(f'{w:g}' for w in YEARS[y].weights or ())} ({y}"
                        + "".join(f", {o}" for o, r in YEARS.items() if o != y and r.weights == YEARS[y].weights
                                  and o not in years) + ")" for y in [year] + [y for y in years if y != year])
    notes = [QUICK_FIELD_NOTE] if quick else []
    notes += [
        f"Device: {device_text(doc.get('device_info'))}. Cold: the official protocol, {doc['runs']} fresh "
        f"processes, one whole-image forward per image with no warm-up, parts in order "
        f"({', '.join(p['label'] for p in doc['parts'])}); warm: runs 2..{doc['runs']} of {doc['runs']} "
        f"consecutive runs in one process ({warm_runs} run{'s' if warm_runs != 1 else ''}). Mean \u00b1 sd over runs.",
        f"Scores relative to {doc.get('baseline')} (e^2 = 7.389), weights of runtime / FLOPs / params: {weights}; "
        f"ranks and scores without a year are {year}'s. Kendall's \u03c4, cold against warm: "
        f"{_tau(ranking.get('tau'))} ({year} weights{'; ' + taus if taus else ''}).",
    ]
    if any(e.get("load_forwards") for e in doc["entries"]):
        notes.append("Load fwd: the forward passes an entry's own code runs while it loads (constructor, select_model); "
                      "an entry with any starts its first timed image warm, while the others pay the cold start.")
    if any(e.get("measures", {}) and e["measures"].get("flops_undercount") for e in doc["entries"]):
        notes.append("* fvcore skipped operators that are not element-wise: the FLOPs are an undercount.")
    for e in doc["entries"]:
        if e.get("status") == "error":
            notes.append(f"{e.get('key') or e['hint']}: not ranked, {e['error']}")
    return notes


def field_markdown(doc: Dict[str, Any], quick: bool = False) -> str:
    """The table as Markdown, with its notes (``quick``: a quick-mode run, said first)."""
    columns = field_columns(doc)
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in field_rows(doc)]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {note}" for note in field_notes(doc, quick)) + "\n"


def field_latex(doc: Dict[str, Any], quick: bool = False) -> str:
    """The table as LaTeX (needs ``\\usepackage{booktabs}``), the notes as a footnote paragraph."""
    columns = field_columns(doc)
    spec = "r" * columns.index("Entry") + "l" + "r" * (len(columns) - columns.index("Entry") - 1)
    lines = [r"\begin{tabular}{" + spec + "}", r"\toprule",
             " & ".join(latex_escape(c) for c in columns) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(cell) for cell in row) + r" \\" for row in field_rows(doc)]
    lines += [r"\bottomrule", r"\end{tabular}", "", r"\par\smallskip\footnotesize"]
    lines += [latex_escape(note) + r"\\" for note in field_notes(doc, quick)]
    return "\n".join(lines) + "\n"


def field_csv(doc: Dict[str, Any], quick: bool = False) -> str:
    """The table as CSV: numbers without the ``±`` text (mean and sd in their own columns); ``quick``: a last column
    ``mode`` says "quick" on every row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    parts = [p["label"] for p in doc["parts"]]
    others = _other_years(doc)
    writer.writerow(["key", "name", "status", "year", "rank_cold", "rank_warm"]
                    + [f"rank_{p}_{y}" for y in others for p in ("cold", "warm")]
                    + ["num_parameters_m", "flops_g", "flops_undercount", "activations_m", "num_conv"]
                    + [f"psnr_{p}" for p in parts]
                    + ["runtime_cold_ms", "runtime_cold_sd", "runtime_warm_ms", "runtime_warm_sd",
                       "score_cold", "score_warm"] + [f"score_{p}_{y}" for y in others for p in ("cold", "warm")]
                    + ["load_forwards", "error"] + (["mode"] if quick else []))
    year = document_years(doc)[0]
    for e in doc["entries"]:
        m = e.get("measures") or {}
        writer.writerow([e.get("key"), e.get("name"), e.get("status"), year, e.get("rank_cold"), e.get("rank_warm")]
                        + [year_value(e, f"rank_{p}", y) for y in others for p in ("cold", "warm")]
                        + [m.get("num_parameters"), m.get("flops"),
                           m.get("flops_undercount"), m.get("activations"), m.get("num_conv")]
                        + [m.get("psnr", {}).get(p) for p in parts]
                        + [e.get("runtime_cold_ms"), e.get("runtime_cold_sd"), e.get("runtime_warm_ms"),
                           e.get("runtime_warm_sd"), e.get("score_cold"), e.get("score_warm")]
                        + [year_value(e, f"score_{p}", y) for y in others for p in ("cold", "warm")]
                        + [e.get("load_forwards"), e.get("error")] + (["quick"] if quick else []))
    return buffer.getvalue()


def write_field_tables(doc: Dict[str, Any], out_dir: PathLike, stem: str = "field", quick: bool = False) -> List[Path]:
    """Write ``stem.tex``, ``stem.md`` and ``stem.csv`` to ``out_dir`` (created), atomically; returns the paths.
    ``quick``: the tables of a quick-mode run, which say so."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, text in ((".tex", field_latex(doc, quick)), (".md", field_markdown(doc, quick)),
                         (".csv", field_csv(doc, quick))):
        written.append(atomic_write_text(out / f"{stem}{suffix}", text))
    return written
