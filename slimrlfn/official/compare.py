"""A local field (``slimrlfn field``) against the organisers' run of the same challenge: what matches, what cannot.

Entries are matched by results name without its padding, else by entry id where one official entry has it (a
``use_prune`` variant or a model outside the repository has no official counterpart). Per matched entry: the
official ``Ave Time`` and the first-image re-scored one (:mod:`slimrlfn.official.rescore`), the official first-image
cost, and the local cold (official protocol) and warm runtimes with the local first-image cost (each cold run's first
image of its first data part against the median of that part's images, averaged over runs). Where the baseline entry
is in both, each runtime is also taken relative to it, which is what the score uses.

The orders are compared with Kendall's tau over the matched entries (official against local cold, first image
removed against local warm). Absolute times are not comparable (another device, other data), nor is the size of
a first-image cost (on a GPU it holds the CUDA context and kernel loading, which a CPU does not have); the notes
say which comparisons the two documents allow and which they do not.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from slimrlfn.core.devices import device_text
from slimrlfn.field.ranking import kendall_tau

__all__ = ["compare_field", "local_first_image"]


def local_first_image(entry: Dict[str, Any]) -> Dict[str, Optional[float]]:
    """``{"first_ms", "median_ms", "first_cost_ms"}`` of a field entry's cold runs (means over runs)."""
    firsts, medians = [], []
    for record in entry.get("cold", []):
        if record.get("status") != "ok" or not record.get("parts"):
            continue
        part = next(iter(record["parts"].values()))
        times = part.get("ms") or []
        if len(times) > 1:
            firsts.append(float(times[0]))
            medians.append(float(np.median(times)))
    if not firsts:
        return {"first_ms": None, "median_ms": None, "first_cost_ms": None}
    first, median = float(np.mean(firsts)), float(np.mean(medians))
    return {"first_ms": first, "median_ms": median, "first_cost_ms": first - median}


def _match(entry: Dict[str, Any], by_id: Dict[int, Dict[str, Any]], by_key: Dict[str, Dict[str, Any]]):
    if entry.get("use_prune"):
        return None
    key = str(entry.get("key") or "").strip()
    return by_key[key] if key in by_key else by_id.get(entry.get("model_id"))


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None or b == 0 else a / b


def _tau(rows: List[Dict[str, Any]], a: str, b: str) -> Optional[float]:
    pairs = [(r[a], r[b]) for r in rows if r[a] is not None and r[b] is not None]
    return kendall_tau([p[0] for p in pairs], [p[1] for p in pairs]) if len(pairs) > 1 else None


def compare_field(field: Dict[str, Any], official: Dict[str, Any]) -> Dict[str, Any]:
    """The comparison of a field document and an official analysis
    (:func:`slimrlfn.official.analysis.analyse_official`)."""
    entries = official.get("entries", [])
    ids = [e.get("model_id") for e in entries]
    by_id = {e["model_id"]: e for e in entries if e.get("model_id") is not None and ids.count(e["model_id"]) == 1}
    by_key = {e["key"]: e for e in entries}
    base_official = next((e for e in entries if e.get("model_id") == 0), None)
    base_local = next((e for e in field["entries"] if e.get("key") == field.get("baseline")), None)
    rows = []
    for entry in field["entries"]:
        if entry.get("runtime_cold_ms") is None:
            continue
        match = _match(entry, by_id, by_key)
        if match is None:
            continue
        first = local_first_image(entry)
        row = {"key": entry["key"], "official_key": match["key"], "model_id": match.get("model_id"),
               "load_forwards": match.get("load_forwards", {}).get("count", entry.get("load_forwards")),
               "official_ms": match["runtimes"]["official_ms"], "rescored_ms": match["runtimes"]["rescored_ms"],
               "official_first_cost_ms": match["runtimes"]["first_cost_ms"],
               "local_cold_ms": entry["runtime_cold_ms"], "local_warm_ms": entry.get("runtime_warm_ms"),
               "local_cold_minus_warm_ms": entry.get("cold_minus_warm_ms"),
               "local_first_cost_ms": first["first_cost_ms"]}
        base_ms = base_official["runtimes"]["official_ms"] if base_official else None
        row["official_relative"] = _ratio(row["official_ms"], base_ms)
        row["local_cold_relative"] = _ratio(row["local_cold_ms"], base_local and base_local.get("runtime_cold_ms"))
        row["local_warm_relative"] = _ratio(row["local_warm_ms"], base_local and base_local.get("runtime_warm_ms"))
        rows.append(row)
    taus = {"official_vs_local_cold": _tau(rows, "official_ms", "local_cold_ms"),
            "rescored_vs_local_warm": _tau(rows, "rescored_ms", "local_warm_ms"),
            "official_vs_local_warm": _tau(rows, "official_ms", "local_warm_ms")}
    return {"year": official.get("year"), "official_device": official.get("device"),
            "local_device": device_text(field.get("device_info")),
            "local_parts": [p["label"] for p in field.get("parts", [])], "local_runs": field.get("runs"),
            "official_images": official.get("images"), "common": len(rows), "rows": rows, "tau": taus,
            "notes": _notes(rows, field, official)}


def _notes(rows: List[Dict[str, Any]], field: Dict[str, Any], official: Dict[str, Any]) -> List[str]:
    local = [e for e in field["entries"] if e.get("runtime_cold_ms") is not None]
    notes = [f"{len(rows)} of {len(local)} locally measured entries have an official counterpart among "
             f"{len(official.get('entries', []))} official entries (matched by name, else by entry id)."]
    if len(rows) < 2:
        notes.append("The rankings cannot be compared: Kendall's tau needs at least 2 entries measured on both sides.")
    if official.get("device") and field.get("device_info"):
        parts = ", ".join(p["label"] for p in field.get("parts", []))
        notes.append(f"Absolute runtimes are not comparable: official on {official['device']}, local on "
                     f"{device_text(field.get('device_info'))}, on other data ({parts} locally); only orders and "
                     "ratios to a common baseline are.")
    if (field.get("device_info") or {}).get("device_type") != "cuda":
        notes.append("A first image on a GPU carries the CUDA context and kernel loading, which a CPU does not have: "
                     "the size of the first-image cost is not comparable, only whether an entry pays one.")
    notes.append("A first-image cost is the first image of a data part against the median of its images: it also "
                 "holds any difference in size between that first image and the median one, on both sides.")
    if not any(r["official_relative"] is not None and r["local_cold_relative"] is not None for r in rows):
        notes.append("No runtime relative to the baseline on both sides: the baseline entry is not in both.")
    return notes
