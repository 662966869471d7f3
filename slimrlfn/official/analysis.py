"""The official analysis of one year: the organisers' own measurements re-scored with the first image removed.

Inputs (any of them; :func:`find_inputs` fills in what a challenge repository holds): the organisers'
``results.json`` (:mod:`slimrlfn.official.results`), their log (:mod:`slimrlfn.official.log`), the year's rules
(:mod:`slimrlfn.metrics.years`), the repository to load the entries from for their load-time forwards
(:mod:`slimrlfn.official.forwards`), and a local field JSON to compare with (:mod:`slimrlfn.official.compare`).

:func:`analyse_official` returns one document (``kind`` ``slimrlfn-official``): ``year``, ``record`` (the year
record), ``device`` (where the organisers measured), ``sources``, ``images`` (per split), ``entries`` (per entry:
``key``, ``raw_key``, ``model_id``, ``load_forwards`` {count, why}, ``psnr``, ``flops_g``, ``params_m``, ...,
``runtimes`` (:func:`slimrlfn.official.rescore.entry_runtimes`), ``gate``, ``published_table`` (its row of
``results.txt`` when that file is beside ``results.json``) and ``protocols`` {``official``,
``first_image_removed``}: values, score, sub-scores, per track eligible / why not / rank), ``tracks``,
``changes`` (per track: tau, movers, eligibility changes), ``cold_estimate`` (an estimate, labelled so:
:func:`slimrlfn.official.rescore.cold_estimate`, with its ``changes`` against the official ranking), ``table_check`` (entries whose recomputed ``Ave Time``
differs from ``results.txt``'s), ``baseline`` (the README's stated baseline runtime against the results and the
log), ``log`` (:func:`slimrlfn.official.log.log_summary`) and ``comparison``. Nothing is measured here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.metrics.years import YEARS, challenge_year, year_in_text, year_of_repository
from slimrlfn.official.compare import compare_field
from slimrlfn.official.forwards import load_forwards
from slimrlfn.official.log import log_summary, read_log
from slimrlfn.official.rescore import (PROTOCOLS, cold_estimate, compare_protocols, entry_runtimes, gate_check,
                                       rank_protocol, tracks_of)
from slimrlfn.official.results import read_results, read_results_table

__all__ = ["KIND", "analyse_official", "find_inputs"]

KIND = "slimrlfn-official"


def _year_of(path: Optional[Path]) -> Optional[str]:
    if path is None:
        return None
    return year_in_text(path.name) or year_of_repository(path.parent) or year_in_text(str(path.resolve()))


def find_inputs(challenge_repo: Optional[PathLike] = None, results: Optional[PathLike] = None,
                log: Optional[PathLike] = None,
                year: Optional[Any] = None) -> Tuple[Optional[Path], Optional[Path], str]:
    """(results.json, log, year): those given, else the repository's ``results.json`` and its one
    ``*EfficientSR*.log``; the year given, else the repository's, the log's or the results folder's. UserError
    when there is neither a results file nor a log, or no year can be told."""
    repo = Path(challenge_repo) if challenge_repo is not None else None
    if repo is not None and not repo.is_dir():
        raise UserError(f"--challenge_repo {challenge_repo}: no such folder")
    results_path = Path(results) if results is not None else None
    log_path = Path(log) if log is not None else None
    if repo is not None and results_path is None and (repo / "results.json").is_file():
        results_path = repo / "results.json"
    if repo is not None and log_path is None:
        logs = sorted(repo.glob("*EfficientSR*.log"))
        log_path = logs[0] if len(logs) == 1 else None
    if results_path is None and log_path is None:
        raise UserError("--results / --log: give the organisers' results.json or their log, or --challenge_repo DIR "
                        "holding them (results.json, NTIRE20XX-EfficientSR.log)")
    if year is not None:
        return results_path, log_path, challenge_year(year).year
    found = ((year_of_repository(repo) if repo is not None else None) or _year_of(log_path) or _year_of(results_path))
    if found is None:
        raise UserError(f"--year: give the challenge year ({', '.join(YEARS)}); none of the inputs names it")
    return results_path, log_path, found


def _baseline(record: Any, entries: List[Dict[str, Any]], summary: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    base = next((e for e in entries if e.get("model_id") == 0), None)
    out: Dict[str, Any] = {"name": record.baseline.name, "stated_ms": record.baseline.runtime_ms,
                           "stated_runs": record.baseline.runs_stated,
                           "results_key": base["key"] if base else None,
                           "results_official_ms": base["runtimes"]["official_ms"] if base else None,
                           "results_rescored_ms": base["runtimes"]["rescored_ms"] if base else None}
    if summary:
        every = summary["all"]
        out.update({"log_models": list(summary["models"]), "log_runs": every["ave_time"]["n"],
                    "log_mean_ms": every["ave_time"]["mean"], "log_first_ms": every["ave_time_first"],
                    "log_others_mean_ms": every["ave_time_others"]["mean"], "log_last_ms": every["ave_time_last"],
                    "log_unit": every["unit"]})
    return out


def _entry(raw: Dict[str, Any], record: Any, drop_first: int) -> Dict[str, Any]:
    entry = {"key": raw["key"], "raw_key": raw["raw_key"], "model_id": raw["model_id"],
             "psnr": {"valid": raw["valid_ave_psnr"], "test": raw.get("test_ave_psnr")},
             "flops_g": float(raw["flops"]), "params_m": float(raw["num_parameters"]),
             "activations_m": raw.get("activations"), "num_conv": raw.get("num_conv"),
             "memory_mb": raw.get("valid_memory"), "runtimes": entry_runtimes(raw, drop_first)}
    entry["gate"] = gate_check(entry["psnr"], record)
    return entry


def analyse_official(results: Optional[PathLike] = None, log: Optional[PathLike] = None, year: Optional[Any] = None,
                     challenge_repo: Optional[PathLike] = None, load: bool = True,
                     field: Optional[Dict[str, Any]] = None, drop_first: int = 1) -> Dict[str, Any]:
    """The official analysis document (see the module docstring); reads everything before it loads any entry.
    ``drop_first``: how many of the first valid images the re-scored runtime leaves out (1: the process's first)."""
    if isinstance(drop_first, bool) or not isinstance(drop_first, int) or drop_first < 1:
        raise UserError(f"--drop_first {drop_first}: expected a positive number of images")
    results_path, log_path, year_text = find_inputs(challenge_repo, results, log, year)
    record = challenge_year(year_text)
    raws = read_results(results_path) if results_path is not None else []
    table_path = results_path.parent / "results.txt" if results_path is not None else None
    table = read_results_table(table_path) if table_path is not None and table_path.is_file() else {}
    runs = read_log(log_path) if log_path is not None else None
    entries = [_entry(raw, record, drop_first) for raw in raws]
    if entries and min(e["runtimes"]["images"]["valid"] for e in entries) <= drop_first:
        raise UserError(f"--drop_first {drop_first}: an entry has only {min(e['runtimes']['images']['valid'] for e in entries)} "
                        f"valid images")
    forwards = load_forwards(challenge_repo, [e["model_id"] for e in entries], load)
    for entry in entries:
        entry["load_forwards"] = forwards[entry["model_id"]]
        entry["published_table"] = table.get(entry["key"])
    scored = record.weights is not None and record.baseline.measures() is not None and bool(entries)
    estimate = cold_estimate(entries) if entries else None
    if scored:
        protocols = PROTOCOLS + (("cold_estimate",) if estimate else ())
        ranked = {protocol: rank_protocol(entries, record, protocol) for protocol in protocols}
        for entry in entries:
            entry["protocols"] = {protocol: ranked[protocol][entry["key"]] for protocol in protocols}
        if estimate:
            estimate["changes"] = compare_protocols(ranked, record, "cold_estimate")
    summary = log_summary(runs) if runs is not None else None
    doc: Dict[str, Any] = {
        "kind": KIND, "version": 1, "year": record.year, "record": record.to_json(), "device": record.device_text(),
        "sources": {"results": str(results_path) if results_path else None,
                    "results_table": str(table_path) if table else None,
                    "log": str(log_path) if log_path else None,
                    "challenge_repo": str(challenge_repo) if challenge_repo is not None else None,
                    "load_forwards": "loaded" if challenge_repo is not None and load else "not loaded"},
        "images": entries[0]["runtimes"]["images"] if entries else None,
        "entries": entries, "tracks": tracks_of(record) if scored else [],
        "changes": compare_protocols(ranked, record) if scored else None,
        "scored": scored,
        "table_check": [{"key": e["key"], "published_ms": e["published_table"]["ave_ms"],
                         "recomputed_ms": e["runtimes"]["official_ms"]} for e in entries
                        if e["published_table"] and e["published_table"].get("ave_ms") is not None
                        and abs(e["published_table"]["ave_ms"] - e["runtimes"]["official_ms"]) > 0.005 + 1e-9],
        "baseline": _baseline(record, entries, summary), "log": summary, "comparison": None,
        "drop_first": drop_first, "cold_estimate": estimate,
    }
    if field is not None:
        doc["comparison"] = compare_field(field, doc)
    return doc
