"""What an official analysis says, in words: the re-scoring's effect per track, the baseline's stated runtime
against the organisers' own files and the runs of their log (the tables, the comparison with a local field
among them, are :mod:`slimrlfn.factsheet.official`'s). Every number comes
from the document (:func:`slimrlfn.official.analysis.analyse_official`); notebook 06 shows these texts and
``slimrlfn official`` prints them.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from slimrlfn.core.files import public_path

__all__ = ["SUMMARY_KEYS", "conclusion", "log_markdown", "summary"]

#: The keys of :func:`summary` (notebook 06's ``official`` block).
SUMMARY_KEYS = ("year", "device", "entries", "scored", "tau", "changes", "load_forwards", "baseline",
                "first_image", "conclusion", "json", "figures", "tables")


def _ms(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def _tau(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _warm(entry: Dict[str, Any]) -> str:
    count = entry["load_forwards"]["count"]
    return "unknown" if count is None else str(count)


def _track_sentence(track: str, change: Dict[str, Any]) -> str:
    name = "the main track" if track == "main" else f"sub-track {track}"
    parts = [f"in {name} Kendall's tau is {_tau(change['tau'])} over the {len(change['compared'])} entries ranked both "
             "ways"]
    moved = [f"{m['key']} {m['from']}->{m['to']}" for m in change["movers"]]
    parts.append(f"{len(moved)} move ({', '.join(moved)})" if moved else "nobody moves")
    for c in change["eligibility_changes"]:
        verb = "joins" if c["joins"] else "leaves"
        rank = f" at rank {c['rank_after']}" if c["joins"] else ""
        parts.append(f"{c['key']} {verb}{rank} (out {'officially' if c['joins'] else 'when re-scored'}: "
                     f"{'; '.join(c['why_not'])})")
    return ", ".join(parts)


def _baseline_sentence(doc: Dict[str, Any]) -> Optional[str]:
    base = doc["baseline"]
    if base.get("stated_ms") is None:
        return None
    text = (f"The README states {base['name']} at {base['stated_ms']:.2f} ms (the mean of "
            f"{base['stated_runs'] or '?'} runs, it says)")
    if base.get("results_official_ms") is not None:
        text += (f"; results.json's run gives {base['results_official_ms']:.2f} ms, {base['results_rescored_ms']:.2f} "
                 "ms without its first image")
    if base.get("log_runs"):
        text += (f"; the log holds {base['log_runs']} runs ({', '.join(base['log_models'])}) with Ave Times of mean "
                 f"{base['log_mean_ms']:.2f}, first {base['log_first_ms']:.2f}, last {base['log_last_ms']:.2f} "
                 f"({base['log_unit']})")
    return text + "."


def conclusion(doc: Dict[str, Any]) -> str:
    """A paragraph: the first-image cost, each track's tau, movers and eligibility changes, the baseline's figures."""
    entries = doc["entries"]
    text: List[str] = []
    if entries:
        slower = [e for e in entries if e["runtimes"]["first_cost_ms"] > 0]
        top = max(entries, key=lambda e: e["runtimes"]["first_cost_ms"])
        text.append(f"In the organisers' run ({doc['device']}), the first valid image is slower than the median valid "
                    f"image for {len(slower)} of {len(entries)} entries, by up to "
                    f"{top['runtimes']['first_cost_ms']:.2f} ms ({top['key']}: {top['runtimes']['first_ms']:.2f} ms "
                    f"against {top['runtimes']['median_valid_ms']:.2f}).")
        shifted = [e for e in entries if e["runtimes"]["ave_time_shift_ms"] is not None]
        if shifted:
            shift = max(shifted, key=lambda e: e["runtimes"]["ave_time_shift_ms"])
            text.append(f"Leaving it out moves an Ave Time by up to {shift['runtimes']['ave_time_shift_ms']:.2f} ms "
                        f"({shift['key']}: {_ms(shift['runtimes']['official_ms'])} -> "
                        f"{_ms(shift['runtimes']['rescored_ms'])}).")
        sigmas = [e["runtimes"]["parts"]["valid"]["sigmas"] for e in entries
                  if e["runtimes"]["parts"].get("valid") and e["runtimes"]["parts"]["valid"]["sigmas"] is not None]
        if sigmas:
            text.append(f"Against the mean of the other valid images, the first one lies {min(sigmas):.1f} to "
                        f"{max(sigmas):.1f} standard deviations of the others away.")
        warm = [e["key"] for e in entries if e["load_forwards"]["count"]]
        unknown = [e["key"] for e in entries if e["load_forwards"]["count"] is None]
        if warm:
            text.append(f"Entries whose own code runs forwards while loading start warm: {', '.join(warm)}.")
        if unknown and len(unknown) < len(entries):
            text.append(f"Load-time forwards unknown for {', '.join(unknown)}.")
    if doc.get("changes"):
        text.append("Re-scored with the first image removed: " + "; ".join(
            _track_sentence(track, change) for track, change in doc["changes"].items()) + ".")
    elif entries:
        text.append(f"No ranking: the {doc['year']} rules give no weights or baseline figures.")
    estimate = doc.get("cold_estimate")
    if estimate and estimate.get("changes"):
        main = estimate["changes"].get("main", {})
        moved = ", ".join(f"{m['key']} {m['from']}->{m['to']}" for m in main.get("movers", [])) or "nobody moves"
        text.append(f"An estimate, not a measurement: had the {len(estimate['warm'])} warm-loading entries started "
                    f"cold (their first valid image given the median first-image cost, "
                    f"{estimate['median_first_cost_ms']:.2f} ms over the mean of the others, of the "
                    f"{estimate['from_entries']} entries that load cold), the main track would read: {moved}.")
    sentence = _baseline_sentence(doc)
    if sentence:
        text.append(sentence)
    if doc.get("table_check"):
        text.append(f"{len(doc['table_check'])} entries' recomputed Ave Time differs from results.txt.")
    return " ".join(text)


def log_markdown(doc: Dict[str, Any]) -> str:
    """The log's runs in order: model, valid, test and Ave Time."""
    log = doc.get("log")
    if not log:
        return "No log given.\n"
    every = log["all"]
    unit = "ms" if every["unit"] in (None, "milliseconds") else every["unit"]
    lines = [f"| run | model | valid [{unit}] | test [{unit}] | Ave Time [{unit}] |", "|---|---|---|---|---|"]
    for index, run in enumerate(every["runs"], 1):
        cells = [str(index), run["model"]] + ["" if run[k] is None else f"{run[k]:.2f}" for k in ("valid", "test",
                                                                                                 "ave_time")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summary(doc: Dict[str, Any], json_path: Any = None, figures: Any = (), tables: Any = ()) -> Dict[str, Any]:
    """The official analysis in brief (:data:`SUMMARY_KEYS`), for notebook 06's summary JSON; its files named relative
    to the checkout (:func:`slimrlfn.core.files.public_path`)."""
    changes = doc.get("changes") or {}
    return {"year": doc["year"], "device": doc["device"], "entries": len(doc["entries"]), "scored": doc["scored"],
            "tau": {track: change["tau"] for track, change in changes.items()},
            "changes": {track: {"movers": change["movers"], "eligibility_changes": change["eligibility_changes"]}
                        for track, change in changes.items()},
            "load_forwards": {e["key"]: e["load_forwards"]["count"] for e in doc["entries"]},
            "baseline": doc["baseline"],
            "first_image": {e["key"]: {k: e["runtimes"][k] for k in ("first_ms", "median_valid_ms", "official_ms",
                                                                     "rescored_ms")} for e in doc["entries"]},
            "conclusion": conclusion(doc), "json": None if json_path is None else public_path(json_path),
            "figures": [public_path(f) for f in figures], "tables": [public_path(t) for t in tables]}
