"""Notebook 02's pruning explorer: one pruning run per criterion, its tables and its JSON summary.

:func:`explore` runs (or resumes, or reads back) one :func:`slimrlfn.prune.schedule.prune_iteratively`
per criterion under one root folder; :func:`records_table` and :func:`references_table` lay the
records out for display (with the latency, ratio and score intervals, and whether a step's latency change is
within noise); :func:`speed_verdict` says whether the criteria can be ranked by speed; :func:`summary` builds ``02_iterative_pruning.json``, which the factsheet
reads (:mod:`slimrlfn.factsheet.data`): its keys are :data:`SUMMARY_KEYS`, ``score`` among them: the year record
(:mod:`slimrlfn.metrics.years`) whose weights the records' NTIRE score uses, relative to RLFN.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from slimrlfn.core.devices import device_text
from slimrlfn.core.files import PathLike
from slimrlfn.metrics.score import SCORE_YEAR
from slimrlfn.metrics.stats import intervals_overlap
from slimrlfn.metrics.years import YEARS
from slimrlfn.prune.measure import MEASURE_KEYS
from slimrlfn.prune.records import load_records
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import RUN_KEYS, PruneSettings

__all__ = ["RECORD_COLUMNS", "SUMMARY_KEYS", "Runs", "compact_table", "explore", "latency_change", "records_table", "references_table",
           "speed_verdict", "summary", "timing_key", "timing_note", "timing_of"]

#: Record key -> column of :func:`records_table`.
RECORD_COLUMNS = {"step": "step", "psnr_before": "PSNR pruned [dB]", "psnr_after": "PSNR fine-tuned [dB]",
                  "params_m": "params [M]", "flops_g": "FLOPs [G]", "latency_ms": "latency [ms]",
                  "rlfn_latency_ms": "RLFN latency [ms]", "ntire_score": "NTIRE score"}
#: The keys of ``02_iterative_pruning.json``.
SUMMARY_KEYS = ("device", "device_info", "quick", "start_model", "settings", "runs", "references", "figures",
                "speed_verdict", "score")


class Runs(Dict[str, List[Dict[str, Any]]]):
    """``{criterion: records}``, with ``folders``: ``{criterion: its run folder}`` (the steps' checkpoints)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.folders: Dict[str, Path] = {}


def explore(criteria: Sequence[str], root: PathLike, log: Optional[Callable[[str], None]] = None,
            **settings: Any) -> Runs:
    """One run per criterion, the other ``settings`` shared; returns ``{criterion: records}`` (:class:`Runs`, whose
    ``folders`` name each run's folder).

    Run ``c`` goes to ``root/<c>-<key>``, ``key`` a digest of the settings that shape the result:
    changing one starts a new run beside the old ones, running again unchanged resumes (or, when
    the run is finished, just reads it back). Step 0 (the unpruned start) is measured once, by the first
    run, and every later fresh run records that measurement: one latency and one score for step 0.
    """
    results = Runs()
    start_measure: Optional[Dict[str, Any]] = None
    for criterion in criteria:
        values = {**settings, "criterion": criterion}
        probe = PruneSettings(**{**values, "out_dir": str(root)})
        key = hashlib.sha256(json.dumps({**{k: getattr(probe, k) for k in RUN_KEYS}, **timing_key(probe)},
                                        sort_keys=True, default=str).encode()).hexdigest()[:8]
        out_dir = Path(root) / f"{criterion}-{key}"
        prune_iteratively(PruneSettings(**{**values, "out_dir": str(out_dir)}), log=log, start_measure=start_measure)
        results[criterion] = load_records(out_dir)
        results.folders[criterion] = out_dir
        if start_measure is None:  # step 0 is the same model for every criterion: timed once, shown alike
            first = {**results[criterion][0], "psnr": results[criterion][0]["psnr_after"]}
            start_measure = {k: first[k] for k in MEASURE_KEYS if k in first}
    return results


def timing_key(settings: PruneSettings) -> Dict[str, Any]:
    """What decides a run's latencies besides the model: the timing settings, the device and torch's CPU threads
    now. Part of the run folder's digest, so changing one (``cpu_threads`` in notebook 02, say) times every step
    afresh instead of reading old latencies back beside new ones."""
    import torch

    return {"timing": {"latency_runs": settings.latency_runs, "latency_warmup": settings.latency_warmup,
                       "latency_target": settings.latency_target, "latency_seconds": settings.latency_seconds,
                       "device": settings.device, "threads": torch.get_num_threads()}}


def timing_of(record: Mapping[str, Any]) -> Optional[Tuple[Any, ...]]:
    """How a record's latency was measured: (device, threads, input shape, time cap, target half-width)."""
    latency = record.get("latency")
    if not isinstance(latency, Mapping):
        return None
    return (latency.get("device"), latency.get("threads"), tuple(latency.get("input_shape") or ()),
            latency.get("time_cap_s"), latency.get("target_half_width"))


def timing_note(runs: Mapping[str, Sequence[Mapping[str, Any]]],
                references: Optional[Mapping[str, Mapping[str, Any]]] = None) -> Optional[str]:
    """None when every latency of the table was measured alike, else one line saying how many ways and which
    (the rows then are not comparable as they stand)."""
    seen: Dict[Tuple[Any, ...], List[str]] = {}
    for criterion, records in runs.items():
        for record in records:
            found = timing_of(record)
            if found is not None:
                seen.setdefault(found, []).append(f"{criterion} step {record.get('step')}")
    for label, row in (references or {}).items():
        found = timing_of(row)
        if found is not None:
            seen.setdefault(found, []).append(label)
    if len(seen) < 2:
        return None
    ways = "; ".join(f"{len(rows)} row(s) on {device}, {threads} thread(s), input {list(shape)}, cap {cap} s "
                     f"(e.g. {rows[0]})" for (device, threads, shape, cap, _target), rows in seen.items())
    return f"latencies measured {len(seen)} different ways, not comparable as they stand: {ways}"


def _interval(values: Optional[Sequence[float]], digits: int = 3) -> Optional[str]:
    return None if not values else f"{values[0]:.{digits}f}-{values[1]:.{digits}f}"


def latency_change(previous: Optional[Mapping[str, Any]], record: Mapping[str, Any]) -> Optional[str]:
    """``within noise`` when the latency-ratio intervals of ``record`` and the step before overlap, else
    ``faster`` or ``slower``; None for step 0 or records without intervals."""
    if previous is None or not previous.get("latency_ratio_ci") or not record.get("latency_ratio_ci"):
        return None
    if intervals_overlap(previous["latency_ratio_ci"], record["latency_ratio_ci"]):
        return "within noise"
    return "faster" if record["latency_ratio"] < previous["latency_ratio"] else "slower"


def records_table(runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    """One row per (criterion, step): ``criterion``, then :data:`RECORD_COLUMNS`, the 95 % intervals of the latency,
    its ratio to RLFN and the score, the number of timed pairs, and the latency change against the step before."""
    rows = []
    for criterion, records in runs.items():
        for index, record in enumerate(records):
            row = {"criterion": criterion, **{column: record.get(key) for key, column in RECORD_COLUMNS.items()}}
            row["latency 95% CI [ms]"] = _interval(record.get("latency_ci_ms"), 1)
            row["latency / RLFN"] = record.get("latency_ratio")
            row["ratio 95% CI"] = _interval(record.get("latency_ratio_ci"))
            row["pairs"] = record.get("latency_pairs")
            row["NTIRE score 95% CI"] = _interval(record.get("ntire_score_ci"))
            row["latency vs step before"] = latency_change(records[index - 1] if index else None, record)
            rows.append(row)
    return rows


def _with_interval(value: Optional[float], interval: Optional[Sequence[float]], digits: int) -> Optional[str]:
    if value is None:
        return None
    return f"{value:.{digits}f}" + (f" ({interval[0]:.{digits}f}-{interval[1]:.{digits}f})" if interval else "")


def compact_table(runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    """The steps as a page can show them: seven columns, units in the headers, values rounded to what they
    resolve, intervals beside their value (:func:`records_table` is the wide form, for a CSV)."""
    rows = []
    for criterion, records in runs.items():
        for index, record in enumerate(records):
            rows.append({
                "criterion": criterion, "step": record.get("step"),
                "PSNR [dB]": None if record.get("psnr_after") is None else round(float(record["psnr_after"]), 2),
                "params [M]": None if record.get("params_m") is None else round(float(record["params_m"]), 4),
                "FLOPs [G]": None if record.get("flops_g") is None else round(float(record["flops_g"]), 2),
                "latency / RLFN (95% CI)": _with_interval(record.get("latency_ratio"), record.get("latency_ratio_ci"),
                                                          2),
                "NTIRE score (95% CI)": _with_interval(record.get("ntire_score"), record.get("ntire_score_ci"), 2),
                "vs step before": latency_change(records[index - 1] if index else None, record) or "",
            })
    return rows


def speed_verdict(runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """Whether the criteria's final models can be ranked by speed: their latency-ratio intervals must not overlap.

    Says so plainly when they do (the measurement cannot tell them apart), else ranks them fastest first.
    """
    finals = {c: records[-1] for c, records in runs.items() if records and records[-1].get("latency_ratio_ci")}
    if len(finals) < 2:
        return "fewer than two criteria with latency intervals: nothing to rank by speed"
    names = sorted(finals, key=lambda c: finals[c]["latency_ratio"])
    close = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
             if intervals_overlap(finals[a]["latency_ratio_ci"], finals[b]["latency_ratio_ci"])]
    if close:
        shown = "; ".join(f"{a} {_interval(finals[a]['latency_ratio_ci'])} and {b} "
                          f"{_interval(finals[b]['latency_ratio_ci'])}" for a, b in close[:3])
        return (f"too wide to rank the criteria by speed: the 95% intervals of the final latency / RLFN overlap "
                f"({shown}{'; ...' if len(close) > 3 else ''}); the differences are within the noise of this machine")
    return "fastest final model first (95% intervals apart): " + ", ".join(
        f"{c} {finals[c]['latency_ratio']:.3f} ({_interval(finals[c]['latency_ratio_ci'])})" for c in names)


def references_table(references: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """One row per official model measured beside the runs (:func:`slimrlfn.prune.measure.reference_records`)."""
    return [{"model": label, "PSNR [dB]": row["psnr"], "params [M]": row["params_m"], "FLOPs [G]": row["flops_g"],
             "latency [ms]": row["latency_ms"], "latency 95% CI [ms]": _interval(row.get("latency_ci_ms"), 1),
             "latency / RLFN": row.get("latency_ratio"), "ratio 95% CI": _interval(row.get("latency_ratio_ci")),
             "pairs": row.get("latency_pairs"), "NTIRE score": row["ntire_score"],
             "NTIRE score 95% CI": _interval(row.get("ntire_score_ci"))} for label, row in references.items()]


def summary(runs: Mapping[str, Sequence[Mapping[str, Any]]], references: Mapping[str, Mapping[str, Any]],
            device_info: Mapping[str, Any], quick: bool, start_model: str, settings: Mapping[str, Any],
            figures: Iterable[Any] = ()) -> Dict[str, Any]:
    """``02_iterative_pruning.json``: device, mode, starting model, the shared settings, every run's records,
    the official models measured beside them, and the figure files."""
    return {"device": device_text(device_info, measurement=False), "device_info": dict(device_info),
            "quick": bool(quick), "start_model": start_model, "settings": dict(settings),
            "runs": {criterion: list(records) for criterion, records in runs.items()},
            "references": dict(references), "figures": [str(path) for path in figures],
            "speed_verdict": speed_verdict(runs),
            "score": {"year": SCORE_YEAR, "weights": list(YEARS[SCORE_YEAR].weights or ()),
                      "formula": YEARS[SCORE_YEAR].formula(), "relative_to": "RLFN, timed in the same loop"}}
