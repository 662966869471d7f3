"""The factsheet's official tables: the organisers' run re-scored with the first image removed, and a local field
against it. Read from an official analysis document (:mod:`slimrlfn.official.analysis`, as written to JSON).

``official``: one row per entry of the organisers' ``results.json``, in the published main-track order (then the
entries below a PSNR gate): the main-track rank published and with the first valid image removed, the entry, its
load-time forward passes (blank where unknown), PSNR valid / test (dB, as published; ``*`` where it passes a gate
only at 2 decimals), params (M), FLOPs (G), the published Ave Time, the first valid image and the median valid
image, the Ave Time without the first image (ms), both scores, and each sub-track's rank both ways (``-`` where the
entry is not eligible). The year's rules, the device and the eligibility changes close the table.
``comparison``: one row per entry measured on both sides (:mod:`slimrlfn.official.compare`), with the taus and
what cannot be compared as notes. :func:`write_official_tables` writes LaTeX (booktabs), Markdown and CSV
atomically, like :mod:`slimrlfn.factsheet.field`.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from slimrlfn.core.files import PathLike, atomic_write_text
from slimrlfn.factsheet.tables import latex_escape

__all__ = ["comparison_table", "official_table", "table_csv", "table_latex", "table_markdown", "write_official_tables"]

_PROTOCOLS = ("official", "first_image_removed")


def _fmt(value: Optional[float], decimals: int) -> str:
    return "" if value is None else f"{value:.{decimals}f}"


def _rank(entry: Dict[str, Any], protocol: str, track: str) -> Optional[int]:
    return entry["protocols"][protocol]["tracks"][track]["rank"] if entry.get("protocols") else None


def _both(entry: Dict[str, Any], track: str) -> str:
    before, after = (_rank(entry, p, track) for p in _PROTOCOLS)
    return f"{before or 'n/e'}->{after or 'n/e'}"


def _score(value: Optional[float]) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if value < 1e4 else f"{value:.3g}"


def official_table(doc: Dict[str, Any]) -> Dict[str, Any]:
    """``{"columns", "rows" (text cells), "records" (numbers, for CSV), "notes"}`` of the official table."""
    sub_tracks = [t for t in doc.get("tracks", []) if t != "main"]
    columns = (["Rank", "Rank w/o first", "Entry", "Load fwd", "PSNR valid [dB]", "PSNR test [dB]", "Params [M]",
                "FLOPs [G]", "Ave Time [ms]", "First image [ms]", "Median [ms]", "Ave Time w/o first [ms]", "Score",
                "Score w/o first"] + [f"Sub-track {t}" for t in sub_tracks])
    entries = sorted(doc["entries"], key=lambda e: (_rank(e, "official", "main") is None,
                                                    _rank(e, "official", "main") or 0))
    rows, records = [], []
    for e in entries:
        r, gate = e["runtimes"], e["gate"]
        scores = [(e.get("protocols") or {}).get(p, {}).get("score") for p in _PROTOCOLS]
        psnr = [_fmt(gate["splits"][s]["published"], 2) + ("*" if s in gate["by_rounding"] else "")
                if s in gate["splits"] else _fmt(e["psnr"].get(s), 2) for s in ("valid", "test")]
        ranks = [_rank(e, p, "main") for p in _PROTOCOLS]
        rows.append(["" if ranks[0] is None else str(ranks[0]), "" if ranks[1] is None else str(ranks[1]),
                     e["key"] + (" (baseline)" if e.get("model_id") == 0 else ""),
                     "" if e["load_forwards"]["count"] is None else str(e["load_forwards"]["count"]),
                     *psnr, _fmt(e["params_m"], 3), _fmt(e["flops_g"], 2), _fmt(r["official_ms"], 2),
                     _fmt(r["first_ms"], 2), _fmt(r["median_valid_ms"], 2), _fmt(r["rescored_ms"], 2),
                     _score(scores[0]), _score(scores[1])] + [_both(e, t) for t in sub_tracks])
        records.append({"key": e["key"], "raw_key": e["raw_key"], "model_id": e["model_id"],
                        "load_forwards": e["load_forwards"]["count"], "load_forwards_why": e["load_forwards"]["why"],
                        "psnr_valid": e["psnr"]["valid"], "psnr_test": e["psnr"]["test"], "gate_pass": gate["pass"],
                        "params_m": e["params_m"], "flops_g": e["flops_g"], **{k: r[k] for k in (
                            "official_ms", "first_ms", "median_valid_ms", "first_cost_ms", "rescored_ms")},
                        "score": scores[0], "score_first_removed": scores[1],
                        **{f"rank_{t}{suffix}": _rank(e, p, t) for t in doc.get("tracks", [])
                           for p, suffix in zip(_PROTOCOLS, ("", "_first_removed"))}})
    return {"columns": columns, "rows": rows, "records": records, "notes": _official_notes(doc)}


def _official_notes(doc: Dict[str, Any]) -> List[str]:
    record = doc["record"]
    base = record["baseline"]
    notes = [f"{record['title']}: the organisers' run on {record.get('gpu') or 'a GPU not stated'} "
             f"({doc['images']['valid']} valid and "
             f"{doc['images']['test']} test images, one timed forward each, no warm-up, valid first). Ave Time = "
             f"{record['runtime_average']}; w/o first: the first valid image (the first forward of the process) "
             "left out; median: of the valid images." if doc.get("images") else
             f"{record['title']}: no results.json given."]
    if record.get("weights"):
        w = record["weights"]
        notes.append(f"Score = {w[0]:g} exp(2T/T0) + {w[1]:g} exp(2F/F0) + {w[2]:g} exp(2P/P0) relative to "
                     f"{base['name']} as the README states it ({base['runtime_ms']} ms, {base['flops_g']} G, "
                     f"{base['params_m']} M), on the figures as published (ms and G to 2 decimals, M to 3); PSNR gates "
                     + ", ".join(f"{s} {g:.2f} dB" for s, g in (record.get("gates") or {}).items())
                     + "; * passes only at 2 decimals. Sub-tracks: rank published->w/o first, n/e not eligible (the "
                     "other two measures above the baseline's, or below a gate).")
    if any(e["load_forwards"]["count"] for e in doc["entries"]):
        notes.append("Load fwd: forward passes the entry's own code runs while it loads; such an entry starts its "
                     "first timed image warm.")
    unknown: Dict[str, List[str]] = {}
    for e in doc["entries"]:
        if e["load_forwards"]["count"] is None:
            unknown.setdefault(e["load_forwards"]["why"], []).append(e["key"])
    for why, keys in unknown.items():
        who = f"all {len(keys)} entries" if len(keys) == len(doc["entries"]) > 1 else ", ".join(keys)
        notes.append(f"Load fwd unknown for {who}: {why}.")
    for track, change in (doc.get("changes") or {}).items():
        for c in change["eligibility_changes"]:
            notes.append(f"{c['key']} {'joins' if c['joins'] else 'leaves'} {track} when re-scored "
                         f"(out {'officially' if c['joins'] else 'when re-scored'}: {'; '.join(c['why_not'])}).")
    return notes


def comparison_table(doc: Dict[str, Any]) -> Dict[str, Any]:
    """The local-against-official table of ``doc["comparison"]`` (empty rows when there is none)."""
    comparison = doc.get("comparison") or {"rows": [], "notes": ["No local field given."], "tau": {}}
    columns = ["Entry", "Load fwd", "Official [ms]", "Official w/o first [ms]", "Official first-image cost [ms]",
               "Local cold [ms]", "Local warm [ms]", "Local first-image cost [ms]", "Official / baseline",
               "Local cold / baseline"]
    rows = [[r["key"], "" if r["load_forwards"] is None else str(r["load_forwards"]), _fmt(r["official_ms"], 2),
             _fmt(r["rescored_ms"], 2), _fmt(r["official_first_cost_ms"], 2), _fmt(r["local_cold_ms"], 2),
             _fmt(r["local_warm_ms"], 2), _fmt(r["local_first_cost_ms"], 2), _fmt(r["official_relative"], 3),
             _fmt(r["local_cold_relative"], 3)] for r in comparison["rows"]]
    taus = comparison.get("tau") or {}
    notes = list(comparison["notes"])
    if taus:
        notes.insert(0, "Kendall's \u03c4: " + "; ".join(
            f"{name.replace('_', ' ')} {'n/a' if value is None else f'{value:.3f}'}" for name, value in taus.items()))
    return {"columns": columns, "rows": rows, "records": list(comparison["rows"]), "notes": notes}


def table_markdown(table: Dict[str, Any]) -> str:
    """A table of :func:`official_table` / :func:`comparison_table` as Markdown, its notes as a list."""
    columns = table["columns"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table["rows"]]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {note}" for note in table["notes"]) + "\n"


def table_latex(table: Dict[str, Any]) -> str:
    """The same as LaTeX (needs ``\\usepackage{booktabs}``), the notes as a footnote paragraph."""
    columns: Sequence[str] = table["columns"]
    entry = columns.index("Entry")
    spec = "r" * entry + "l" + "r" * (len(columns) - entry - 1)
    lines = [r"\begin{tabular}{" + spec + "}", r"\toprule", " & ".join(latex_escape(c) for c in columns) + r" \\",
             r"\midrule"]
    lines += [" & ".join(latex_escape(cell) for cell in row) + r" \\" for row in table["rows"]]
    lines += [r"\bottomrule", r"\end{tabular}", "", r"\par\smallskip\footnotesize"]
    lines += [latex_escape(note) + r"\\" for note in table["notes"]]
    return "\n".join(lines) + "\n"


def table_csv(table: Dict[str, Any]) -> str:
    """The same as CSV: the numbers unrounded, one column per field of the records."""
    buffer = io.StringIO()
    records = table["records"]
    names = list(records[0]) if records else table["columns"]
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record)
    return buffer.getvalue()


def write_official_tables(doc: Dict[str, Any], out_dir: PathLike, stem: str = "official") -> List[Path]:
    """Write ``stem.tex/.md/.csv`` (with results) and, with a comparison, ``stem_comparison.tex/.md/.csv``
    (atomically); returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = [(stem, official_table(doc))] if doc["entries"] else []
    if doc.get("comparison"):
        tables.append((f"{stem}_comparison", comparison_table(doc)))
    written = []
    for name, table in tables:
        for suffix, text in ((".tex", table_latex(table)), (".md", table_markdown(table)), (".csv", table_csv(table))):
            written.append(atomic_write_text(out / f"{name}{suffix}", text))
    return written
