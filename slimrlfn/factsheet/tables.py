"""The factsheet's tables as text: LaTeX (booktabs), Markdown and CSV, per model and combined.

One row per :data:`slimrlfn.factsheet.data.QUANTITIES` entry; the columns are the value of each model
and where it was measured (the device for timings, memory and PSNR). A missing value is written
``n/a`` with a footnote letter; the footnote says why. Remarks on how the numbers were obtained
follow the footnotes. The LaTeX needs ``\\usepackage{booktabs,array}`` (booktabs rules as in the
CVPR/NTIRE templates). :func:`write_tables` writes every file atomically.
"""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from slimrlfn.core.files import PathLike, atomic_write_text
from slimrlfn.factsheet.data import QUANTITIES, Factsheet, Quantity, Value

__all__ = ["NA", "csv_table", "format_value", "latex_escape", "latex_table", "markdown_table", "model_slug", "write_tables"]


NA = "n/a"
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "\u00b1": r"$\pm$", "\u00d7": r"$\times$", "\u2013": "--", "\u00b2": r"$^2$", "\u03c4": r"$\tau$"}


def model_slug(label: str) -> str:
    """'SlimRLFN-prune' -> 'slimrlfn_prune' (file names of the per-model tables)."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "model"


def format_value(value: Value, quantity: Quantity) -> str:
    """The value as shown in the tables: fixed decimals, '± sd' for timings; '' when missing."""
    if value.value is None:
        return ""
    text = f"{value.value:.{quantity.decimals}f}"
    if value.spread is not None:
        text += f" \u00b1 {value.spread:.{quantity.decimals}f}"
    return text


def _quantity_text(quantity: Quantity) -> str:
    unit = f" [{quantity.unit}]" if quantity.unit else ""
    how = f" ({quantity.how})" if quantity.how else ""
    return f"{quantity.label}{unit}{how}"


def _letters() -> Iterator[str]:
    for i in range(26 * 27):
        yield chr(97 + i % 26) * (1 + i // 26)


_Row = Tuple[str, List[Tuple[str, str]], str]


def _layout(sheet: Factsheet, models: Sequence[str]) -> Tuple[List[_Row], List[Tuple[str, str]]]:
    """Rows ``(quantity text, [(value text, footnote letter)], measured on)`` and footnotes ``(letter, note)``."""
    notes: Dict[str, str] = {}
    letters = _letters()
    rows = []
    for quantity in QUANTITIES:
        cells = []
        devices: Dict[str, str] = {}
        for model in models:
            value = sheet.values[model][quantity.key]
            mark = ""
            if value.value is None:
                note = value.note or "no value"
                if note not in notes:
                    notes[note] = next(letters)
                mark = notes[note]
            cells.append((format_value(value, quantity), mark))
            if value.measured_on:
                devices[model] = value.measured_on
        distinct = list(dict.fromkeys(devices.values()))
        where = distinct[0] if len(distinct) == 1 else "; ".join(f"{m}: {d}" for m, d in devices.items())
        rows.append((_quantity_text(quantity), cells, where))
    return rows, [(letter, note) for note, letter in notes.items()]


def _check_models(sheet: Factsheet, models: Optional[Sequence[str]]) -> List[str]:
    models = list(models) if models is not None else list(sheet.models)
    unknown = [m for m in models if m not in sheet.values]
    if unknown or not models:
        raise ValueError(f"models {unknown or models!r}: not in the factsheet (has {', '.join(sheet.models)})")
    return models


def _title(models: Sequence[str], quick: bool) -> str:
    what = models[0] if len(models) == 1 else ", ".join(models)
    return f"NTIRE 2024 Efficient SR factsheet: {what} (x4)" + (" - quick mode" if quick else "")


# --------------------------------------------------------------------------- LaTeX


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters (and ``±``, ``×``, ``–``, ``²``, ``τ``) written for LaTeX."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def latex_table(sheet: Factsheet, models: Optional[Sequence[str]] = None, caption: Optional[str] = None,
                label: Optional[str] = None) -> str:
    """A booktabs ``table`` of ``models`` (default: all): quantity, one value column per model, measured on."""
    models = _check_models(sheet, models)
    rows, footnotes = _layout(sheet, models)
    label = label or "tab:factsheet" + ("-" + model_slug(models[0]).replace("_", "-") if len(models) == 1 else "")
    spec = "l" + "r" * len(models) + r">{\raggedright\arraybackslash}p{5.2cm}"
    head = ["Quantity"] + (["Value"] if len(models) == 1 else list(models)) + ["Measured on"]
    lines = [
        f"% {_title(models, sheet.quick)}. Written by slimrlfn.factsheet from the results of notebooks 01-04.",
        r"% Needs \usepackage{booktabs,array}.",
        r"\begin{table}[t]",
        r"  \centering",
        r"  \footnotesize",
        f"  \\caption{{{latex_escape(caption or _title(models, sheet.quick))}}}",
        f"  \\label{{{label}}}",
        f"  \\begin{{tabular}}{{{spec}}}",
        r"    \toprule",
        "    " + " & ".join(latex_escape(h) for h in head) + r" \\",
        r"    \midrule",
    ]
    for text, cells, where in rows:
        shown = [latex_escape(v) if not mark else f"{NA}\\textsuperscript{{{mark}}}" for v, mark in cells]
        lines.append("    " + " & ".join([latex_escape(text)] + shown + [latex_escape(where)]) + r" \\")
    lines += [r"    \bottomrule", r"  \end{tabular}", r"  \par\smallskip", r"  {\raggedright"]
    lines += [f"  \\textsuperscript{{{letter}}}~{latex_escape(note)}.\\par" for letter, note in footnotes]
    lines += [f"  {latex_escape(remark)}\\par" for remark in sheet.remarks]
    lines += [r"  }", r"\end{table}", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    return text.replace("|", r"\|")


def markdown_table(sheet: Factsheet, models: Optional[Sequence[str]] = None, title: Optional[str] = None) -> str:
    """A GitHub/Jupyter Markdown table of ``models`` (default: all), footnotes and remarks below it."""
    models = _check_models(sheet, models)
    rows, footnotes = _layout(sheet, models)
    head = ["quantity"] + (["value"] if len(models) == 1 else list(models)) + ["measured on"]
    align = ["---"] + ["---:"] * (len(head) - 2) + ["---"]
    lines = [f"**{_md(title or _title(models, sheet.quick))}**", "",
             "| " + " | ".join(_md(h) for h in head) + " |", "|" + "|".join(align) + "|"]
    for text, cells, where in rows:
        shown = [_md(v) if not mark else f"{NA}<sup>{mark}</sup>" for v, mark in cells]
        lines.append("| " + " | ".join([_md(text)] + shown + [_md(where)]) + " |")
    lines.append("")
    lines += [f"<sup>{letter}</sup> {_md(note)}.  " for letter, note in footnotes]
    lines += [f"{_md(remark)}  " for remark in sheet.remarks]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- CSV


CSV_COLUMNS = ("model", "quantity", "label", "unit", "how", "value", "sd", "n", "measured_on", "note")


def csv_table(sheet: Factsheet, models: Optional[Sequence[str]] = None) -> str:
    """Long-format CSV, one line per model and quantity; full precision; ``n/a`` plus the reason when missing."""
    models = _check_models(sheet, models)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for model in models:
        for q in QUANTITIES:
            v = sheet.values[model][q.key]
            writer.writerow([model, q.key, q.label, q.unit, q.how, NA if v.value is None else repr(v.value),
                             "" if v.spread is None else repr(v.spread), "" if v.n is None else v.n,
                             v.measured_on, "; ".join(n for n in ("quick mode" if sheet.quick else "", v.note) if n)])
    return out.getvalue()


# --------------------------------------------------------------------------- files


def write_tables(sheet: Factsheet, out_dir: PathLike) -> List[Path]:
    """Write ``factsheet.{tex,md,csv,json}`` (all models) and ``factsheet_<model>.{tex,md,csv}`` (one each).

    Every file is written atomically; returns the paths in that order.
    """
    out_dir = Path(out_dir)
    written = [
        atomic_write_text(out_dir / "factsheet.tex", latex_table(sheet)),
        atomic_write_text(out_dir / "factsheet.md", markdown_table(sheet)),
        atomic_write_text(out_dir / "factsheet.csv", csv_table(sheet)),
        atomic_write_text(out_dir / "factsheet.json", json.dumps(sheet.to_json(), indent=2) + "\n"),
    ]
    for model in sheet.models:
        stem = out_dir / f"factsheet_{model_slug(model)}"
        written += [atomic_write_text(stem.with_suffix(".tex"), latex_table(sheet, [model])),
                    atomic_write_text(stem.with_suffix(".md"), markdown_table(sheet, [model])),
                    atomic_write_text(stem.with_suffix(".csv"), csv_table(sheet, [model]))]
    return written
