"""One worker of the timing study: a block of runs of one model, in this process or a fresh one.

:func:`run_block` loads the model (:func:`slimrlfn.arch.ref.load_model` of the job's reference), the data and the
inference path, then runs the protocol once per run and emits one record per run (a failed run is an
error record with its one line; the next run still goes). :func:`run_subprocess` runs a block in a
fresh ``python -m slimrlfn.timing --worker`` process (a fresh CUDA context each time): the job as
JSON on stdin, one marked JSON record per line back.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, Optional, Sequence, Set, Tuple

import torch

from slimrlfn.arch.ref import load_model
from slimrlfn.core.devices import describe_device
from slimrlfn.core.errors import UserError, one_line
from slimrlfn.core.orphans import PARENT_PID_ENV, die_with_parent, watch_parent
from slimrlfn.data.images import read_image
from slimrlfn.data.pairs import find_pairs
from slimrlfn.data.sample import example_images
from slimrlfn.arch.contract import uint8_to_tensor
from slimrlfn.deploy.backends import build_backend, difference_to_eager, refuse_if_inexact
from slimrlfn.timing.protocols import TimingSettings, run_protocol, summarize_groups

__all__ = ["MARK", "load_average", "platform_info", "run_block", "run_subprocess", "stream_worker", "worker_main"]

#: The prefix of a record line on the worker's stdout.
MARK = "@@slimrlfn-timing-run "


def platform_info(device: torch.device) -> Dict[str, Any]:
    info = describe_device(device)
    info["os"] = f"{platform.system()} {platform.release()}"
    info["cuda_module_loading"] = os.environ.get("CUDA_MODULE_LOADING")
    if device.type == "cuda":
        try:
            info["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            info["driver"] = None
    return info


def load_average() -> Optional[float]:
    """The machine's 1-minute load average (other processes compete for the cores), None if unknown."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def _check_input(settings: TimingSettings, pairs: Optional[Sequence[Any]], device: torch.device,
                 data_range: float) -> torch.Tensor:
    """A real LR image for the exactness check: the data's first, else the workbook's example image."""
    image = read_image(pairs[0].lr_path) if pairs else example_images(limit=1)[0]["lr"]
    return uint8_to_tensor(image, device, data_range)


def run_block(job: Dict[str, Any], emit: Callable[[Dict[str, Any]], None]) -> None:
    """Run ``job["runs"]`` of ``job["source"]`` one after another in this process; ``emit`` each record.

    Set-up failures (model, data, device) give one error record per run; a failing run gives an
    error record and the next run still goes.
    """
    settings = TimingSettings(**job["settings"])
    source = job["source"]
    base = {"model": source["model"], "label": source["label"], "scenario": job["scenario"],
            "protocol": settings.protocol, "pid": os.getpid()}
    saved_threads, saved_benchmark = torch.get_num_threads(), torch.backends.cudnn.benchmark
    try:
        try:
            if settings.threads:
                torch.set_num_threads(settings.threads)
            torch.backends.cudnn.benchmark = settings.cudnn_benchmark
            device = torch.device(settings.device)
            spec = load_model(source["ref"])
            model = spec.model.to(device).eval()
            for param in model.parameters():
                param.requires_grad_(False)
            if settings.fp16:
                model = model.half()
            if settings.channels_last:
                model = model.to(memory_format=torch.channels_last)
            pairs = find_pairs(settings.data_dir, settings.split) if settings.data_dir else None
            info = platform_info(device)
            runner = model
            if settings.backend != "eager":
                # built without running it, so that the protocol's first forward stays cold; the
                # exactness check follows the first run (below)
                runner = build_backend(settings.backend, model, device, check=False,
                                       example=_check_input(settings, pairs, device, spec.data_range)
                                       if settings.backend == "tensorrt" else None, data_range=spec.data_range)
                info["backend_info"] = runner.describe()
        except Exception as exc:  # noqa: BLE001 (reported per run, never raised past the worker)
            for run in job["runs"]:
                emit({**base, "run": run, "status": "error", "error": one_line(exc), "samples": [], "groups": {}})
            return
        refused = None
        for index, run in enumerate(job["runs"]):
            begin = time.time()
            if refused is not None:
                emit({**base, "run": run, "status": "error", "error": refused, "process_run": index + 1,
                      "started": begin, "samples": [], "groups": {}})
                continue
            try:
                samples = run_protocol(runner, settings, device, pairs, data_range=spec.data_range, tile=spec.tile)
                if index == 0 and runner is not model:
                    runner.max_abs_diff = difference_to_eager(runner, model, _check_input(settings, pairs, device,
                                                                                         spec.data_range),
                                                              spec.data_range)
                    info["backend_info"] = runner.describe()
                    try:
                        refuse_if_inexact(runner)
                    except UserError as exc:
                        refused = str(exc)
                        raise
                emit({**base, "run": run, "status": "ok", "error": None, "process_run": index + 1,

                      "started": begin, "wall_s": time.time() - begin, "device_info": info,
                      "load_avg_1min": load_average(),
                      "samples": samples, "groups": summarize_groups(samples, settings.protocol)})
            except Exception as exc:  # noqa: BLE001
                emit({**base, "run": run, "status": "error", "error": one_line(exc), "process_run": index + 1,
                      "started": begin, "samples": [], "groups": {}})
    finally:
        torch.set_num_threads(saved_threads)
        torch.backends.cudnn.benchmark = saved_benchmark


def worker_main() -> int:
    """``python -m slimrlfn.timing --worker``: a job as JSON on stdin, one marked record per line out; it exits
    when its parent dies (:mod:`slimrlfn.core.orphans`)."""
    watch_parent()
    job = json.loads(sys.stdin.read())
    run_block(job, lambda record: print(MARK + json.dumps(record), flush=True))
    return 0


def stream_worker(module: str, job: Dict[str, Any], emit: Callable[[Dict[str, Any]], None],
                  record_key: Callable[[Dict[str, Any]], Any],
                  env_extra: Optional[Dict[str, str]] = None) -> Tuple[Set[Any], int, str]:
    """Run ``python -m <module> --worker`` with ``job`` (JSON) on stdin; ``emit`` each marked record it prints.

    Returns (the ``record_key`` of every record seen, the exit status, the last line of its stderr).
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1", **{PARENT_PID_ENV: str(os.getpid())}, **(env_extra or {}))
    seen: Set[Any] = set()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", module, "--worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, text=True, env=env,
                                preexec_fn=die_with_parent if os.name == "posix" else None)
        try:
            proc.stdin.write(json.dumps(job))
            proc.stdin.close()
            for line in proc.stdout:
                if line.startswith(MARK):
                    record = json.loads(line[len(MARK):])
                    seen.add(record_key(record))
                    emit(record)
            status = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        lines = [line.strip() for line in err.read().splitlines() if line.strip()]
    return seen, status, lines[-1] if lines else ""


def run_subprocess(job: Dict[str, Any], emit: Callable[[Dict[str, Any]], None]) -> None:
    """Run a job in a fresh worker process; runs it never reported become error records."""
    env = {"CUDA_MODULE_LOADING": job["settings"]["cuda_module_loading"]} if job["settings"].get("cuda_module_loading") else None
    seen, status, last = stream_worker("slimrlfn.timing", job, emit, lambda record: record["run"], env)
    for run in job["runs"]:
        if run not in seen:
            emit({"model": job["source"]["model"], "label": job["source"]["label"], "scenario": job["scenario"],
                  "protocol": job["settings"]["protocol"], "pid": None, "run": run, "status": "error",
                  "error": f"worker exited with status {status}: {last or 'no message'}",
                  "samples": [], "groups": {}})
