"""The organisers' ranking recomputed from their per-image runtimes, as published and with the first image removed.

``test_demo.py`` times one forward per image with no warm-up, valid before test in one process: the first valid
image is the first forward of the process and carries its start-up (CUDA context, kernel loading, allocator),
unless the entry's own code ran forwards while it loaded (``load_forwards``). Per entry of ``results.json``
(:func:`entry_runtimes`):

- ``official_ms``: ``(valid mean + test mean) / 2``, the ``Ave Time`` of ``results.txt``;
- ``rescored_ms``: the same with the first ``drop_first`` (1 unless asked) valid images left out (the test split's
  first image runs warm, after the valid split, and stays); ``first_ms``, ``median_valid_ms`` (median of the valid
  images), ``first_cost_ms = first_ms - median_valid_ms``, ``first_share`` (of the valid split's total) and
  ``ave_time_shift_ms = official_ms - rescored_ms``;
- ``parts``: per split, the first image's cost against the others, ``first_minus_rest_ms`` (the first image minus
  the mean of the others) and ``sigmas`` (that, in standard deviations of the others).

:func:`cold_estimate` is an estimate, labelled so: an entry that warmed up while it loaded given, for its first
valid image, the median ``first_minus_rest_ms`` of the entries that did not, and the ranking that follows.

Both protocols are ranked by the year's rules (:mod:`slimrlfn.metrics.years`) on the figures the organisers
publish: runtime, FLOPs, params and PSNR at ``results.txt``'s decimals (the README's own example scores SPAN at
7.74 ms, 9.83 G, 0.151 M to 7.3891). An entry passes the PSNR gates when its published PSNR is at least each
gate (``by_rounding`` lists the splits it passes only at 2 decimals); the main track ranks by the score, a
sub-track by its sub-score among entries whose constraint measures are at most the baseline's stated ones. The
baseline entry is ranked like any other. :func:`compare_protocols` gives, per track, Kendall's tau over the
entries eligible under both, the movers and the entries that join or leave a track.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from slimrlfn.field.ranking import kendall_tau, rank_order
from slimrlfn.metrics.score import challenge_score, sub_score
from slimrlfn.metrics.years import MEASURES, TABLE_DECIMALS, ChallengeYear

__all__ = ["PROTOCOLS", "cold_estimate", "compare_protocols", "entry_runtimes", "gate_check", "published",
           "rank_protocol", "tracks_of"]

#: The two runtimes ranked: as published, and with the first (cold) image of the valid split left out.
PROTOCOLS = ("official", "first_image_removed")
_RUNTIME_OF = {"official": "official_ms", "first_image_removed": "rescored_ms", "cold_estimate": "cold_estimate_ms"}


def _mean(values: Optional[Sequence[float]]) -> Optional[float]:
    return float(np.mean(values)) if values else None


def _part(times: Sequence[float]) -> Optional[Dict[str, Any]]:
    """The first image of a split against the others: its time, their mean and sd, the difference and the sigmas."""
    if len(times) < 3:
        return None
    rest = np.asarray(times[1:], dtype=float)
    sd = float(rest.std(ddof=1))
    minus = float(times[0]) - float(rest.mean())
    return {"first_ms": float(times[0]), "rest_mean_ms": float(rest.mean()), "rest_sd_ms": sd,
            "first_minus_rest_ms": minus, "sigmas": minus / sd if sd > 0 else None}


def entry_runtimes(entry: Mapping[str, Any], drop_first: int = 1) -> Dict[str, Any]:
    """The runtimes of one results.json entry (ms; see the module docstring)."""
    valid, test = list(entry["valid_runtime"]), list(entry.get("test_runtime") or [])
    valid_mean, test_mean, rest_mean = _mean(valid), _mean(test), _mean(valid[drop_first:])
    official = (valid_mean + test_mean) / 2 if test_mean is not None else valid_mean
    if rest_mean is None:
        rescored = None
    else:
        rescored = (rest_mean + test_mean) / 2 if test_mean is not None else rest_mean
    median = float(np.median(valid))
    parts = {split: _part(times) for split, times in (("valid", valid), ("test", test)) if times}
    return {"valid_ms": valid_mean, "test_ms": test_mean, "official_ms": official, "valid_rescored_ms": rest_mean,
            "rescored_ms": rescored, "drop_first": drop_first, "first_ms": float(valid[0]), "median_valid_ms": median,
            "first_cost_ms": float(valid[0]) - median, "parts": parts,
            "first_share": float(valid[0]) / float(np.sum(valid)), "images": {"valid": len(valid), "test": len(test)},
            "ave_time_shift_ms": None if rescored is None else official - rescored}


def cold_estimate(entries: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """An estimate (labelled so): each entry that ran forwards while it loaded given, for its first valid image, the
    median ``first_minus_rest_ms`` of the entries that ran none (``runtimes["cold_estimate_ms"]`` set on every
    entry; the others keep their published runtime). None when no entry warmed up or none is known to be cold."""
    def cost(e: Dict[str, Any]) -> Optional[float]:
        part = e["runtimes"]["parts"].get("valid")
        return None if part is None else part["first_minus_rest_ms"]

    warm = [e for e in entries if e["load_forwards"]["count"]]
    cold = [cost(e) for e in entries if e["load_forwards"]["count"] == 0 and cost(e) is not None]
    if not warm or not cold:
        return None
    median_cost = float(np.median(cold))
    for e in entries:
        r = e["runtimes"]
        r["cold_estimate_ms"] = r["official_ms"]
        part = r["parts"].get("valid")
        if e in warm and part is not None:
            first = part["rest_mean_ms"] + median_cost
            valid = r["valid_ms"] + (first - part["first_ms"]) / r["images"]["valid"]
            r["cold_estimate_ms"] = (valid + r["test_ms"]) / 2 if r["test_ms"] is not None else valid
    return {"median_first_cost_ms": median_cost, "from_entries": len(cold), "warm": [e["key"] for e in warm],
            "label": "estimate: the warm-loading entries' first valid image given the median first-image cost of "
                     "the entries that load cold"}


def _round(value: Optional[float], decimals: int) -> Optional[float]:
    return None if value is None else float(f"{value:.{decimals}f}")


def published(runtime_ms: Optional[float], flops_g: float, params_m: float) -> Dict[str, Optional[float]]:
    """The measures at ``results.txt``'s decimals (:data:`slimrlfn.metrics.years.TABLE_DECIMALS`)."""
    return {"runtime_ms": _round(runtime_ms, TABLE_DECIMALS["runtime_ms"]),
            "flops_g": _round(flops_g, TABLE_DECIMALS["flops_g"]),
            "params_m": _round(params_m, TABLE_DECIMALS["params_m"])}


def gate_check(psnr: Mapping[str, Optional[float]], record: ChallengeYear) -> Dict[str, Any]:
    """``{"pass", "splits": {split: {"psnr", "published", "gate", "pass"}}, "by_rounding": [splits]}``; ``pass`` is
    None when the year states no gates; a split the run has no PSNR for is not checked."""
    if record.gates is None:
        return {"pass": None, "splits": {}, "by_rounding": []}
    splits, by_rounding = {}, []
    for split, gate in record.gates.items():
        raw = psnr.get(split)
        if raw is None:
            continue
        shown = _round(raw, TABLE_DECIMALS["psnr_db"])
        ok = bool(shown is not None and shown >= gate)
        splits[split] = {"psnr": raw, "published": shown, "gate": gate, "pass": ok}
        if ok and raw < gate:
            by_rounding.append(split)
    return {"pass": all(s["pass"] for s in splits.values()), "splits": splits, "by_rounding": by_rounding}


def tracks_of(record: ChallengeYear) -> List[str]:
    """``main`` and the year's sub-tracks by name."""
    return ["main"] + [t.name for t in record.sub_tracks]


def _text(value: Optional[float]) -> str:
    return "unknown" if value is None else f"{value:g}"


def _eligibility(values: Mapping[str, Optional[float]], gates_pass: Optional[bool],
                 record: ChallengeYear) -> Dict[str, Dict[str, Any]]:
    base = dict(zip(MEASURES, record.baseline.measures() or (None, None, None)))
    gate_reason = [] if gates_pass is not False else ["below a PSNR gate"]
    out = {"main": {"eligible": gates_pass is not False, "why_not": gate_reason}}
    for track in record.sub_tracks:
        why = list(gate_reason) + [f"{c} {_text(values[c])} > {record.baseline.name}'s {_text(base[c])}"
                                   for c in track.constraints if values[c] is None or values[c] > base[c]]
        out[track.name] = {"eligible": not why, "why_not": why}
    return out


def rank_protocol(entries: Sequence[Dict[str, Any]], record: ChallengeYear, protocol: str) -> Dict[str, Dict[str, Any]]:
    """``{key: {"values", "score", "sub_scores", "tracks": {track: {"eligible", "why_not", "rank"}}}}`` of every
    entry under ``protocol`` (its ``runtimes`` from :func:`entry_runtimes`, ``gate`` from :func:`gate_check`)."""
    base = dict(zip(MEASURES, record.baseline.measures() or (None, None, None)))
    out: Dict[str, Dict[str, Any]] = {}
    for e in entries:
        values = published(e["runtimes"][_RUNTIME_OF[protocol]], e["flops_g"], e["params_m"])
        ok = values["runtime_ms"] is not None
        score = challenge_score(record, values["runtime_ms"], values["flops_g"], values["params_m"]) if ok else None
        subs = {t.name: sub_score(values[t.measure], base[t.measure]) for t in record.sub_tracks
                if values[t.measure] is not None}
        tracks = _eligibility(values, e["gate"]["pass"] if ok else False, record)
        out[e["key"]] = {"values": values, "score": score, "sub_scores": subs, "tracks": tracks}
    for track in tracks_of(record):
        eligible = {k: (v["score"] if track == "main" else v["sub_scores"].get(track)) for k, v in out.items()
                    if v["tracks"][track]["eligible"]}
        eligible = {k: value for k, value in eligible.items() if value is not None}
        ranks = rank_order(eligible)
        for key, value in out.items():
            value["tracks"][track]["rank"] = ranks.get(key)
    return out


def _metric(value: Dict[str, Any], track: str) -> float:
    return value["score"] if track == "main" else value["sub_scores"][track]


def compare_protocols(ranked: Mapping[str, Mapping[str, Dict[str, Any]]], record: ChallengeYear,
                      other: str = "first_image_removed") -> Dict[str, Any]:
    """Per track: ``tau`` (official against ``other``, over the entries eligible under both; None under 2),
    ``compared``, ``movers`` (``key``, ``from``, ``to``, ``places_up``) and ``eligibility_changes`` (``key``,
    ``joins`` True/False, ``why_not`` under the protocol where it is out)."""
    before, after = ranked["official"], ranked[other]
    out = {}
    for track in tracks_of(record):
        both = [k for k in before if before[k]["tracks"][track]["rank"] and after[k]["tracks"][track]["rank"]]
        tau = (kendall_tau([_metric(before[k], track) for k in both], [_metric(after[k], track) for k in both])
               if len(both) > 1 else None)
        movers = [{"key": k, "from": before[k]["tracks"][track]["rank"], "to": after[k]["tracks"][track]["rank"],
                   "places_up": before[k]["tracks"][track]["rank"] - after[k]["tracks"][track]["rank"]}
                  for k in sorted(both, key=lambda k: before[k]["tracks"][track]["rank"])
                  if before[k]["tracks"][track]["rank"] != after[k]["tracks"][track]["rank"]]
        changes = []
        for key in before:
            was, now = before[key]["tracks"][track]["eligible"], after[key]["tracks"][track]["eligible"]
            if was != now:
                out_side = before if now else after
                changes.append({"key": key, "joins": bool(now), "why_not": out_side[key]["tracks"][track]["why_not"],
                                "rank_after": after[key]["tracks"][track]["rank"]})
        out[track] = {"tau": tau, "compared": both, "movers": movers, "eligibility_changes": changes}
    return out
