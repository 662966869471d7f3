"""A field document's derived numbers, recomputed from its records (so a resumed or a partial field is consistent).

Per entry that measured (:func:`analyse` writes them into the entry): ``runtime_cold_ms`` / ``_sd`` /
``_runs`` and ``runtime_warm_ms`` / ``_sd`` / ``_runs`` (:func:`slimrlfn.field.ranking.protocol_runtimes`),
``cold_minus_warm_ms``, ``micro_ms`` (``{shape: median ms}`` of the timed micro forwards) with
``micro_warmup`` (the untimed forwards given) and ``micro_warmup_length`` (``{shape: forwards}`` until the whole
trace stays within 5 % of its last half's median, :func:`slimrlfn.metrics.stats.warmup_length`; None where it
never does); ``years``: ``{year: {"score_cold", "score_warm", "rank_cold", "rank_warm"}}`` under each year the
document ranks (``doc["years"]``: by default one per distinct weighting, 2024 and 2026, plus ``doc["year"]``),
and the same four without a year, those of the document's own year ``doc["year"]`` (2024 unless given).
The document gets ``baseline`` and ``ranking``: ``year``, ``tau`` (its own year's), ``years`` (``{year:
{"weights", "tau", "movers"}}``), ``ranked`` (the keys in cold-rank order), ``movers`` (entries whose place changes,
by how many places: positive = up when warm), ``pairs`` (each variant against its parent under each protocol,
per year under ``years``) and ``noise`` (:func:`slimrlfn.field.noise.resample_rankings` for cold and warm).
Documents written before the year records (``score_cold_2026``, ``tau_2026``) are rewritten in this form when
analysed again; :func:`slimrlfn.metrics.years.year_value` reads either.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from slimrlfn.core.errors import UserError
from slimrlfn.field.members import choose_baseline, short_name
from slimrlfn.field.noise import resample_rankings
from slimrlfn.field.ranking import protocol_runtimes, rankings
from slimrlfn.metrics.stats import warmup_length
from slimrlfn.metrics.years import LEGACY_SUFFIX, YEARS, scored_year, weighting_years

__all__ = ["RANK_NAMES", "analyse", "field_years", "variant_pairs"]

#: The per-year values of an entry.
RANK_NAMES = ("score_cold", "score_warm", "rank_cold", "rank_warm")


def field_years(doc: Dict[str, Any]) -> Tuple[str, List[str]]:
    """(the document's own year, every year it ranks): ``doc["year"]`` (2024 when absent) and ``doc["years"]``
    (default :func:`slimrlfn.metrics.years.weighting_years` with the own year); UserError for a year whose
    score is not known."""
    year = str(doc.get("year") or "2024")
    scored_year(year, "--year")
    years = [str(y) for y in (doc.get("years") or sorted({*weighting_years(), year}))]
    for other in years:
        scored_year(other, "--year")
    if year not in years:
        years = sorted({*years, year})
    return year, years


def _micro(entry: Dict[str, Any]) -> Tuple[Optional[Dict[str, float]], Optional[int], Optional[Dict[str, int]]]:
    """(median ms per shape of the timed micro forwards, the warm-up given, the warm-up length measured per shape)."""
    record = next((r for r in entry.get("warm", []) if r.get("kind") == "micro" and r.get("status") == "ok"), None)
    if record is None:
        return None, None, None
    traces: Dict[str, List[float]] = {}
    for sample in record.get("samples", []):
        traces.setdefault(sample["name"], []).append(sample["ms"])
    lengths = {shape: (w["length"] if w["settled"] else None)
               for shape, w in ((shape, warmup_length(trace)) for shape, trace in traces.items())}
    return ({shape: group["median_ms"] for shape, group in record["groups"].items()}, record.get("warmup"),
            lengths or None)


def variant_pairs(keys: List[str], given: Optional[List[List[str]]] = None,
                  prune_children: Optional[Dict[str, str]] = None) -> List[Tuple[str, str]]:
    """``(parent, child)`` keys: ``given`` (checked against ``keys``), else found by name among ``keys``.

    By name, a child is its parent's name plus a suffix starting in lower case, or ``-``/``_`` and a
    lower-case letter (``SPAN`` -> ``SPANtiny``, ``SlimRLFN`` -> ``SlimRLFN_prune``; ``RLFN_B`` is not a
    variant of ``RLFN_baseline``); ``prune_children`` maps a ``use_prune`` variant to its entry.
    """
    if given:
        for parent, child in given:
            for key in (parent, child):
                if key not in keys:
                    raise UserError(f"--pairs {parent}:{child}: {key} is not a member that loads; "
                                    f"expected keys among {', '.join(keys)}")
        return [(p, c) for p, c in given]
    pairs = [(parent, child) for child, parent in (prune_children or {}).items() if parent in keys and child in keys]
    for child in keys:
        child_name = short_name(child)
        for parent in keys:
            name = short_name(parent)
            suffix = child_name[len(name):]
            if parent == child or not suffix or not child_name.startswith(name) or (parent, child) in pairs:
                continue
            if suffix[0].islower() or (len(suffix) > 1 and suffix[0] in "-_" and suffix[1].islower()):
                pairs.append((parent, child))
    return pairs


def _above(rp: Optional[int], rc: Optional[int]) -> Optional[str]:
    return None if rp is None or rc is None else ("above" if rc < rp else "below")


def _pair_rows(pairs: List[Tuple[str, str]], by_key: Dict[str, Dict[str, Any]],
               years: List[str]) -> List[Dict[str, Any]]:
    rows = []
    for parent, child in pairs:
        p, c = by_key[parent], by_key[child]
        row: Dict[str, Any] = {"parent": parent, "child": child, "years": {}}
        for protocol in ("cold", "warm"):
            row[f"child_{protocol}"] = _above(p.get(f"rank_{protocol}"), c.get(f"rank_{protocol}"))
            for year in years:
                row["years"].setdefault(year, {})[f"child_{protocol}"] = _above(
                    p["years"][year][f"rank_{protocol}"], c["years"][year][f"rank_{protocol}"])
            tp, tc = p.get(f"runtime_{protocol}_ms"), c.get(f"runtime_{protocol}_ms")
            row[f"child_slower_{protocol}"] = None if tp is None or tc is None else bool(tc > tp)
            row[f"runtime_ratio_{protocol}"] = None if tp is None or tc is None else tc / tp
        rows.append(row)
    return rows


def _movers(ranks: Dict[str, Dict[str, int]]) -> List[Dict[str, Any]]:
    """Entries whose rank differs cold and warm, in cold-rank order."""
    cold_ranks, movers = ranks["cold"], []
    for key in sorted(cold_ranks, key=cold_ranks.get):
        warm_rank = ranks["warm"].get(key)
        if warm_rank is not None and warm_rank != cold_ranks[key]:
            movers.append({"key": key, "rank_cold": cold_ranks[key], "rank_warm": warm_rank,
                           "places_up_when_warm": cold_ranks[key] - warm_rank})
    return movers


def _reset(doc: Dict[str, Any], year: str, years: List[str]) -> None:
    """Blank every derived per-year value (and drop the older keys with the year in their name)."""
    doc["year"], doc["years"] = year, years
    doc["ranking"] = {"year": year, "tau": None, "years": {y: {"weights": list(YEARS[y].weights or ()), "tau": None,
                                                                 "movers": []} for y in years},
                      "ranked": [], "movers": [], "pairs": [], "noise": {}}
    for entry in doc["entries"]:
        for name in RANK_NAMES:
            entry[name] = None
            for suffix in LEGACY_SUFFIX.values():
                if suffix:
                    entry.pop(f"{name}{suffix}", None)
        entry["years"] = {y: {name: None for name in RANK_NAMES} for y in years}


def analyse(doc: Dict[str, Any]) -> Dict[str, Any]:
    """Fill in every derived number of ``doc`` in place (see the module docstring); returns ``doc``."""
    year, years = field_years(doc)
    measured = [e for e in doc["entries"] if e.get("measures") and e.get("key")]
    runtimes: Dict[str, Dict[str, Optional[float]]] = {"cold": {}, "warm": {}}
    runs_ms: Dict[str, Dict[str, List[float]]] = {"cold": {}, "warm": {}}
    for entry in measured:
        times = protocol_runtimes(entry)
        for protocol, stats in times.items():
            entry[f"runtime_{protocol}_ms"], entry[f"runtime_{protocol}_sd"] = stats["ms"], stats["sd"]
            entry[f"runtime_{protocol}_runs"] = stats["runs_ms"]
            runtimes[protocol][entry["key"]] = stats["ms"]
            runs_ms[protocol][entry["key"]] = stats["runs_ms"]
        cold, warm = times["cold"]["ms"], times["warm"]["ms"]
        entry["cold_minus_warm_ms"] = None if cold is None or warm is None else cold - warm
        entry["micro_ms"], entry["micro_warmup"], entry["micro_warmup_length"] = _micro(entry)
    keys = [e["key"] for e in measured if runtimes["cold"].get(e["key"]) is not None]
    _reset(doc, year, years)
    if not keys:
        doc["baseline"] = None
        return doc
    baseline = choose_baseline(keys, doc.get("baseline_given"))
    doc["baseline"] = baseline
    flops = {e["key"]: e["measures"]["flops"] for e in measured}
    params = {e["key"]: e["measures"]["num_parameters"] for e in measured}
    ranked = rankings(runtimes, flops, params, baseline, years)
    for entry in measured:
        for y in years:
            for protocol in ("cold", "warm"):
                entry["years"][y][f"score_{protocol}"] = ranked["scores"][y][protocol].get(entry["key"])
                entry["years"][y][f"rank_{protocol}"] = ranked["ranks"][y][protocol].get(entry["key"])
        entry.update(entry["years"][year])
    by_key = {e["key"]: e for e in measured}
    cold_ranks = ranked["ranks"][year]["cold"]
    prune_children = {e["key"]: next((p["key"] for p in measured if p.get("model_id") == e["model_id"]
                                      and not p.get("use_prune")), None) for e in measured if e.get("use_prune")}
    pairs = variant_pairs(list(by_key), doc.get("pairs_given"), {c: p for c, p in prune_children.items() if p})
    doc["ranking"] = {
        "year": year, "tau": ranked["tau"][year],
        "years": {y: {"weights": list(YEARS[y].weights or ()), "tau": ranked["tau"][y],
                      "movers": _movers(ranked["ranks"][y])} for y in years},
        "ranked": sorted(cold_ranks, key=cold_ranks.get), "movers": _movers(ranked["ranks"][year]),
        "pairs": _pair_rows(pairs, by_key, years),
        "noise": {protocol: resample_rankings({k: v for k, v in runs_ms[protocol].items() if v}, flops, params,
                                              baseline, year=year) for protocol in ("cold", "warm")},
        "max_abs_cold_minus_warm_ms": float(np.max([abs(e["cold_minus_warm_ms"]) for e in measured
                                                    if e.get("cold_minus_warm_ms") is not None] or [0.0])),
    }
    return doc
