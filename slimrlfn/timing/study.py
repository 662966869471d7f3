"""The warm-up timing study: scenarios (separate processes, consecutive runs) and resume.

The NTIRE 2024 ESR runtime came from ``test_demo.py``: CUDA events around each whole-image
forward, no warm-up, ``cudnn.benchmark = False``, the mean over a split, one process. The first
forward of a process pays for CUDA context set-up and kernel loading and lands in that mean.
SlimRLFN's authors (V100) saw RLFN 16.96 / SlimRLFN 13.70 / SlimRLFN-prune 15.18 ms as separate
processes and 10.65 / 8.61 / 8.54 ms as consecutive runs in one process (mean of the last 4 of 5).

Protocols (``ntire``: the official per-image loop without warm-up; ``warm``; the fixed-shape
``micro``) live in :mod:`slimrlfn.timing.protocols`, the workers in :mod:`slimrlfn.timing.worker`. One *run* is one pass of a protocol; every
forward is kept, warm-up included.

Scenarios: ``separate`` runs every (model, run) in a fresh worker process
(``python -m slimrlfn.timing --worker``: a fresh CUDA context each time); ``consecutive``
runs the N runs of a model one after another in one fresh worker process (or in this process
with ``isolate=False``). Workers stream one JSON record per run; a failed run is recorded with
its status and error line and the others are kept. Each record carries the worker's pid.

Resume: results are rewritten atomically after every run. When ``out`` exists and was written
with the same settings (protocol, device, data, factors; not the model list or the run count),
finished runs are kept and only the missing or failed ones run. ``separate`` keeps each finished
(model, run); ``consecutive`` keeps a model only when runs 1..N all finished in one process
(a later run in a new process would start cold), otherwise that model's block runs again.
Other settings raise a UserError unless ``overwrite`` (start again) is given.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import torch

from slimrlfn.arch.ref import load_model
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_json, first_difference
from slimrlfn.core.progress import tqdm
from slimrlfn.timing.preflight import check_data, check_model
from slimrlfn.timing.protocols import make_settings
from slimrlfn.timing.worker import platform_info, run_block, run_subprocess

__all__ = ["SCENARIOS", "resolve_sources", "run_study"]

SCENARIOS = ("separate", "consecutive")


def resolve_sources(models: Sequence[Union[str, Mapping[str, Any], ModelSpec]],
                    data_dir: Optional[PathLike] = None, split: str = "valid") -> List[Dict[str, Any]]:
    """Models -> ``{"model": key, "label", "ref": the JSON form of its reference}``, which the workers load.

    A model is a :class:`~slimrlfn.arch.spec.ModelSpec` or any reference :func:`slimrlfn.arch.ref.load_model`
    takes; each is loaded here once and run once on a small real input, and the images of ``data_dir`` are checked
    against them (:mod:`slimrlfn.timing.preflight`), so a missing, foreign or unfitting checkpoint, a non-finite
    or misshapen output, or an image too small is one line before any worker starts.
    """
    if not models:
        raise UserError(f"--models: give at least one of {', '.join(ZOO)}, a .pth checkpoint or another model")
    specs = [m if isinstance(m, ModelSpec) else load_model(m, "--models") for m in models]
    pairs = check_data(specs, None if data_dir is None else str(data_dir), split)
    for spec in specs:
        check_model(spec, pairs)
    sources = [{"model": spec.key, "label": spec.label, "ref": spec.ref.to_json()} for spec in specs]
    if len({s["model"] for s in sources}) != len(sources):
        raise UserError(f"--models {' '.join(s['model'] for s in sources)}: a model is named twice")
    return sources


def _kept_records(existing: Dict[str, Any], sources: List[Dict[str, str]], scenario: str,
                  runs: int) -> List[Dict[str, Any]]:
    kept = []
    for source in sources:
        done = [r for r in existing.get("records", []) if r.get("model") == source["model"]
                and r.get("status") == "ok" and 1 <= r.get("run", 0) <= runs]
        if scenario == "consecutive":
            complete = {r["run"] for r in done} == set(range(1, runs + 1)) and len({r["pid"] for r in done}) == 1
            done = done if complete else []
        kept.extend(done)
    return kept


def run_study(models: Sequence[Union[str, Mapping[str, Any], ModelSpec]], scenario: str = "separate", runs: int = 5, protocol: str = "ntire",
              data_dir: Optional[PathLike] = None, device: str = "auto", warmup: Optional[int] = None,
              iters: int = 10, sizes: Optional[Sequence[Sequence[int]]] = None, threads: Optional[int] = None,
              channels_last: bool = False, fp16: bool = False, cudnn_benchmark: bool = False,
              cuda_module_loading: Optional[str] = None, split: str = "valid", out: Optional[PathLike] = None,
              overwrite: bool = False, restart_on_mismatch: bool = False, isolate: bool = True,
              progress: bool = True, backend: str = "eager") -> Dict[str, Any]:
    """Time ``models`` ``runs`` times in ``scenario``; returns (and writes to ``out``) the study document.

    ``isolate=False`` runs a ``consecutive`` block in this process. ``restart_on_mismatch`` starts
    again (instead of a UserError) when ``out`` holds other settings. See the module docstring.
    """
    if not isinstance(runs, int) or runs < 1:
        raise UserError(f"--runs {runs}: expected at least 1 run")
    if scenario not in SCENARIOS:
        raise UserError(f"--scenario {scenario!r}: expected one of {', '.join(SCENARIOS)}")
    if scenario == "separate" and not isolate:
        raise UserError("the separate scenario needs a fresh process per run (isolate=True)")
    # The arguments first (backend, device, protocol), then the checkpoints they apply to.
    settings = make_settings(protocol, device, data_dir, split, warmup, iters, sizes, threads, channels_last,
                             fp16, cudnn_benchmark, cuda_module_loading, backend=backend)
    sources = resolve_sources(models, settings.data_dir if settings.protocol != "micro" else None, split)
    identity = {"scenario": scenario, "settings": asdict(settings)}
    records: List[Dict[str, Any]] = []
    if out is not None and Path(out).exists() and not overwrite:
        try:
            existing = json.loads(Path(out).read_text())
            old_identity = existing["identity"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"--out {out}: not a timing results file ({exc}); pass --overwrite or choose another --out") from None
        if old_identity == identity:
            records = _kept_records(existing, sources, scenario, runs)
        elif not restart_on_mismatch:
            raise UserError(f"--out {out}: written with other settings ({first_difference(old_identity, identity)}); "
                            f"pass --overwrite to start again or choose another --out")
    study = {"kind": "slimrlfn-timing-study", "version": 1, "identity": identity, "scenario": scenario,
             "protocol": settings.protocol, "runs": runs, "settings": asdict(settings), "models": sources,
             "parent_pid": os.getpid(), "device_info": platform_info(torch.device(settings.device)),
             "records": records}
    order = {s["model"]: i for i, s in enumerate(sources)}

    def emit(record: Dict[str, Any]) -> None:
        study["records"] = [r for r in study["records"] if (r["model"], r["run"]) != (record["model"], record["run"])]
        study["records"].append(record)
        study["records"].sort(key=lambda r: (order.get(r["model"], len(order)), r["run"]))
        if out is not None:
            atomic_write_json(out, study)
        bar.update(1)

    done = {(r["model"], r["run"]) for r in records}
    jobs = []
    for source in sources:
        todo = [run for run in range(1, runs + 1) if (source["model"], run) not in done]
        if todo:
            blocks = [[run] for run in todo] if scenario == "separate" else [todo]
            jobs += [{"source": source, "scenario": scenario, "settings": asdict(settings), "runs": b} for b in blocks]
    bar = tqdm(total=len(sources) * runs, initial=len(done), desc=f"timing {scenario}", unit="run",
               disable=not progress)
    try:
        for job in jobs:
            if isolate:
                run_subprocess(job, emit)
            else:
                run_block(job, emit)
    finally:
        bar.close()
    if out is not None:
        atomic_write_json(out, study)
    return study
