"""One worker of the field study: runs of one member in this or a fresh process, as ``test_demo.py`` runs them.

A *run* is what one ``python test_demo.py --include_test`` does for the timing: for each data part in
order (valid, then test; or the folders given), one whole-image forward per LR image, timed, no warm-up
(:func:`slimrlfn.timing.protocols.run_protocol`, the ``ntire`` protocol). A run's runtime is the mean of
its parts' per-image means, as the script's ``Ave Time [ms]`` is (valid + test) / 2.

A job (JSON) is ``{"ref", "model", "parts", "settings", "runs", "micro"}``: the model's reference (the JSON
form of :class:`slimrlfn.arch.ref.ModelRef`) and its key, the parts ``[{"label", "data_dir", "split"}]``,
the ntire settings, the run numbers to do one after another in this process, and optionally the micro
protocol's settings (run once, after the runs). Records (one per run, then one ``micro``) carry every
per-image time, the process id, the run's place in its process, the load average and the threads.
:func:`run_job_subprocess` runs a job in a fresh ``python -m slimrlfn.field --worker`` process.
"""
from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Callable, Dict, List

import numpy as np
import torch

from slimrlfn.arch.ref import load_model
from slimrlfn.core.errors import one_line
from slimrlfn.core.orphans import watch_parent
from slimrlfn.data.pairs import find_pairs
from slimrlfn.timing.protocols import TimingSettings, run_protocol, summarize_groups
from slimrlfn.timing.worker import MARK, load_average, platform_info, stream_worker

__all__ = ["run_job", "run_job_subprocess", "worker_main"]

Emit = Callable[[Dict[str, Any]], None]


def _part_times(samples: List[Dict[str, Any]]) -> Dict[str, Any]:
    ms = [s["ms"] for s in samples]
    return {"names": [s["name"] for s in samples], "ms": ms, "wall_ms": [s["wall_ms"] for s in samples],
            "mean_ms": float(np.mean(ms))}


def run_job(job: Dict[str, Any], emit: Emit) -> None:
    """Do ``job`` in this process (see the module docstring); every failure is a record, never raised."""
    settings = TimingSettings(**job["settings"])
    base = {"model": job["model"], "pid": os.getpid()}
    saved_threads = torch.get_num_threads()
    try:
        try:
            if settings.threads:
                torch.set_num_threads(settings.threads)
            torch.backends.cudnn.benchmark = False  # as test_demo.py
            device = torch.device(settings.device)
            spec = load_model(job["ref"])
            model = spec.model.to(device).eval()
            for param in model.parameters():
                param.requires_grad_(False)
            parts = [(p["label"], find_pairs(p["data_dir"], p["split"])) for p in job["parts"]]
            info = platform_info(device)
        except Exception as exc:  # noqa: BLE001 (a set-up failure is one error record per run)
            for run in job["runs"]:
                emit({**base, "kind": "run", "run": run, "status": "error", "error": one_line(exc)})
            if job.get("micro"):
                emit({**base, "kind": "micro", "run": None, "status": "error", "error": one_line(exc)})
            return
        for index, run in enumerate(job["runs"]):
            begin = time.time()
            record = {**base, "kind": "run", "run": run, "process_run": index + 1, "started": begin,
                      "threads": torch.get_num_threads(), "device_info": info}
            try:
                times = {label: _part_times(run_protocol(model, settings, device, pairs, data_range=spec.data_range,
                                                                 tile=spec.tile))
                         for label, pairs in parts}
            except Exception as exc:  # noqa: BLE001
                emit({**record, "status": "error", "error": one_line(exc)})
                continue
            emit({**record, "status": "ok", "error": None, "wall_s": time.time() - begin,
                  "load_avg_1min": load_average(), "parts": times,
                  "runtime_ms": float(np.mean([t["mean_ms"] for t in times.values()]))})
        if job.get("micro"):
            micro = TimingSettings(**job["micro"])
            begin = time.time()
            record = {**base, "kind": "micro", "run": None, "process_run": len(job["runs"]) + 1, "started": begin,
                      "threads": torch.get_num_threads(), "warmup": micro.warmup, "iters": micro.iters}
            try:
                samples = run_protocol(model, micro, device, None, data_range=spec.data_range)
            except Exception as exc:  # noqa: BLE001
                emit({**record, "status": "error", "error": one_line(exc)})
            else:
                emit({**record, "status": "ok", "error": None, "load_avg_1min": load_average(), "samples": samples,
                      "groups": summarize_groups(samples, "micro")})
    finally:
        torch.set_num_threads(saved_threads)


def worker_main() -> int:
    """``python -m slimrlfn.field --worker``: a job as JSON on stdin, one marked record per line out; it exits
    when its parent dies (:mod:`slimrlfn.core.orphans`)."""
    watch_parent()
    job = json.loads(sys.stdin.read())
    run_job(job, lambda record: print(MARK + json.dumps(record), flush=True))
    return 0


def run_job_subprocess(job: Dict[str, Any], emit: Emit) -> None:
    """Do ``job`` in a fresh worker process; runs it never reported become error records."""
    seen, status, last_line = stream_worker("slimrlfn.field", job, emit, lambda r: (r["kind"], r["run"]))
    wanted = [("run", run) for run in job["runs"]] + ([("micro", None)] if job.get("micro") else [])
    for kind, run in wanted:
        if (kind, run) not in seen:
            emit({"model": job["model"], "kind": kind, "run": run, "status": "error",
                  "error": f"worker exited with status {status}: {last_line or 'no message'}"})
