"""Notebook 02's pruning explorer: one pruning run per criterion, its tables and its JSON summary.

:func:`explore` runs (or resumes, or reads back) one :func:`slimrlfn.prune.schedule.prune_iteratively`
per criterion under one root folder; :func:`records_table` and :func:`references_table` lay the
records out for display; :func:`summary` builds ``02_iterative_pruning.json``, which the factsheet
reads (:mod:`slimrlfn.factsheet.data`): its keys are :data:`SUMMARY_KEYS`.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from slimrlfn.core.devices import device_text
from slimrlfn.core.files import PathLike
from slimrlfn.prune.records import load_records
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import RUN_KEYS, PruneSettings

__all__ = ["RECORD_COLUMNS", "SUMMARY_KEYS", "explore", "records_table", "references_table", "summary"]

#: Record key -> column of :func:`records_table`.
RECORD_COLUMNS = {"step": "step", "psnr_before": "PSNR pruned [dB]", "psnr_after": "PSNR fine-tuned [dB]",
                  "params_m": "params [M]", "flops_g": "FLOPs [G]", "latency_ms": "latency [ms]",
                  "rlfn_latency_ms": "RLFN latency [ms]", "ntire_score": "NTIRE score"}
#: The keys of ``02_iterative_pruning.json``.
SUMMARY_KEYS = ("device", "device_info", "quick", "start_model", "settings", "runs", "references", "figures")


def explore(criteria: Sequence[str], root: PathLike, log: Optional[Callable[[str], None]] = None,
            **settings: Any) -> Dict[str, List[Dict[str, Any]]]:
    """One run per criterion, the other ``settings`` shared; returns ``{criterion: records}``.

    Run ``c`` goes to ``root/<c>-<key>``, ``key`` a digest of the settings that shape the result:
    changing one starts a new run beside the old ones, running again unchanged resumes (or, when
    the run is finished, just reads it back).
    """
    results = {}
    for criterion in criteria:
        values = {**settings, "criterion": criterion}
        probe = PruneSettings(**{**values, "out_dir": str(root)})
        key = hashlib.sha256(json.dumps({k: getattr(probe, k) for k in RUN_KEYS}, sort_keys=True,
                                        default=str).encode()).hexdigest()[:8]
        out_dir = Path(root) / f"{criterion}-{key}"
        prune_iteratively(PruneSettings(**{**values, "out_dir": str(out_dir)}), log=log)
        results[criterion] = load_records(out_dir)
    return results


def records_table(runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    """One row per (criterion, step): ``criterion``, then :data:`RECORD_COLUMNS`."""
    return [{"criterion": criterion, **{column: record.get(key) for key, column in RECORD_COLUMNS.items()}}
            for criterion, records in runs.items() for record in records]


def references_table(references: Mapping[str, Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """One row per official model measured beside the runs (:func:`slimrlfn.prune.measure.reference_records`)."""
    return [{"model": label, "PSNR [dB]": row["psnr"], "params [M]": row["params_m"], "FLOPs [G]": row["flops_g"],
             "latency [ms]": row["latency_ms"], "NTIRE score": row["ntire_score"]} for label, row in references.items()]


def summary(runs: Mapping[str, Sequence[Mapping[str, Any]]], references: Mapping[str, Mapping[str, Any]],
            device_info: Mapping[str, Any], quick: bool, start_model: str, settings: Mapping[str, Any],
            figures: Iterable[Any] = ()) -> Dict[str, Any]:
    """``02_iterative_pruning.json``: device, mode, starting model, the shared settings, every run's records,
    the official models measured beside them, and the figure files."""
    return {"device": device_text(device_info, measurement=False), "device_info": dict(device_info),
            "quick": bool(quick), "start_model": start_model, "settings": dict(settings),
            "runs": {criterion: list(records) for criterion, records in runs.items()},
            "references": dict(references), "figures": [str(path) for path in figures]}
