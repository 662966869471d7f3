"""The warm-up timing study: scenarios (separate processes, consecutive runs), resume, ``slimrlfn time``.

The NTIRE 2024 ESR runtime came from ``test_demo.py``: CUDA events around each whole-image
forward, no warm-up, ``cudnn.benchmark = False``, the mean over a split, one process. The first
forward of a process pays for CUDA context set-up and kernel loading and lands in that mean.
SlimRLFN's authors (V100) saw RLFN 16.96 / SlimRLFN 13.70 / SlimRLFN-prune 15.18 ms as separate
processes and 10.65 / 8.61 / 8.54 ms as consecutive runs in one process (mean of the last 4 of 5).

Protocols (``ntire``: the official per-image loop without warm-up; ``warm``; the fixed-shape
``micro``) live in :mod:`slimrlfn.timing_protocols`. One *run* is one pass of a protocol; every
forward is kept, warm-up included.

Scenarios: ``separate`` runs every (model, run) in a fresh worker process
(``python -m slimrlfn.timing_study --worker``: a fresh CUDA context each time); ``consecutive``
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

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import torch

from .backends import BACKENDS, build_backend, difference_to_eager, refuse_if_inexact
from .devices import describe_device
from .errors import UserError
from .files import atomic_write_json
from .timing_protocols import DEFAULT_SIZES, PROTOCOLS, TimingSettings, make_settings, run_protocol, summarize_groups

__all__ = [
    "DEFAULT_SIZES",
    "PROTOCOLS",
    "SCENARIOS",
    "TimingSettings",
    "add_arguments",
    "make_settings",
    "resolve_sources",
    "run_block",
    "run_from_args",
    "run_protocol",
    "run_study",
]

SCENARIOS = ("separate", "consecutive")
_MARK = "@@slimrlfn-timing-run "
PathLike = Union[str, Path]


def resolve_sources(models: Sequence[str]) -> List[Dict[str, str]]:
    """Model names -> ``{"model", "label", "kind", "path"}``: a zoo name (its verified file) or a .pth path."""
    from .zoo import ZOO, find_checkpoint

    if not models:
        raise UserError(f"--models: give at least one of {', '.join(ZOO)} or a .pth checkpoint")
    sources = []
    for name in models:
        if name in ZOO:
            sources.append({"model": name, "label": ZOO[name].label, "kind": "zoo",
                            "path": str(Path(find_checkpoint(name)).resolve())})
        elif name.endswith(".pth") and Path(name).is_file():
            sources.append({"model": name, "label": Path(name).stem, "kind": "checkpoint",
                            "path": str(Path(name).resolve())})
        else:
            raise UserError(f"unknown model {name!r}; expected one of {', '.join(ZOO)} or an existing .pth checkpoint")
    if len({s["model"] for s in sources}) != len(sources):
        raise UserError(f"--models {' '.join(models)}: a model is named twice")
    return sources


# --- one worker: a block of runs of one model ------------------------------------------------------

def _error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else ""
    return line if isinstance(exc, UserError) else f"{type(exc).__name__}: {line}".rstrip(": ")


def _platform_info(device: torch.device) -> Dict[str, Any]:
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


def _load_average() -> Optional[float]:
    """The machine's 1-minute load average (other processes compete for the cores), None if unknown."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def _check_input(settings: TimingSettings, pairs: Optional[Sequence[Any]], device: torch.device) -> torch.Tensor:
    """A real LR image for the exactness check: the data's first, else the workbook's example image."""
    from .data import read_image
    from .evaluate import uint8_to_tensor
    from .export import example_images

    image = read_image(pairs[0].lr_path) if pairs else example_images(limit=1)[0]["lr"]
    return uint8_to_tensor(image, device)


def run_block(job: Dict[str, Any], emit: Callable[[Dict[str, Any]], None]) -> None:
    """Run ``job["runs"]`` of ``job["source"]`` one after another in this process; ``emit`` each record.

    Set-up failures (model, data, device) give one error record per run; a failing run gives an
    error record and the next run still goes.
    """
    from .checkpoints import load_checkpoint
    from .data import find_pairs
    from .zoo import load_zoo_model

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
            if source["kind"] == "zoo":
                model, _ = load_zoo_model(source["model"], path=source["path"])
            else:
                model, _ = load_checkpoint(source["path"])
            model = model.to(device).eval()
            for param in model.parameters():
                param.requires_grad_(False)
            if settings.fp16:
                model = model.half()
            if settings.channels_last:
                model = model.to(memory_format=torch.channels_last)
            pairs = find_pairs(settings.data_dir, settings.split) if settings.data_dir else None
            info = _platform_info(device)
            runner = model
            if settings.backend != "eager":
                # built without running it, so that the protocol's first forward stays cold; the
                # exactness check follows the first run (below)
                runner = build_backend(settings.backend, model, device, check=False,
                                       example=_check_input(settings, pairs, device) if settings.backend == "tensorrt"
                                       else None)
                info["backend_info"] = runner.describe()
        except Exception as exc:  # noqa: BLE001 (reported per run, never raised past the worker)
            for run in job["runs"]:
                emit({**base, "run": run, "status": "error", "error": _error_line(exc), "samples": [], "groups": {}})
            return
        refused = None
        for index, run in enumerate(job["runs"]):
            begin = time.time()
            if refused is not None:
                emit({**base, "run": run, "status": "error", "error": refused, "process_run": index + 1,
                      "started": begin, "samples": [], "groups": {}})
                continue
            try:
                samples = run_protocol(runner, settings, device, pairs)
                if index == 0 and runner is not model:
                    runner.max_abs_diff = difference_to_eager(runner, model, _check_input(settings, pairs, device))
                    info["backend_info"] = runner.describe()
                    try:
                        refuse_if_inexact(runner)
                    except UserError as exc:
                        refused = str(exc)
                        raise
                emit({**base, "run": run, "status": "ok", "error": None, "process_run": index + 1,

                      "started": begin, "wall_s": time.time() - begin, "device_info": info,
                      "load_avg_1min": _load_average(),
                      "samples": samples, "groups": summarize_groups(samples, settings.protocol)})
            except Exception as exc:  # noqa: BLE001
                emit({**base, "run": run, "status": "error", "error": _error_line(exc), "process_run": index + 1,
                      "started": begin, "samples": [], "groups": {}})
    finally:
        torch.set_num_threads(saved_threads)
        torch.backends.cudnn.benchmark = saved_benchmark


def _worker_main() -> int:
    """``python -m slimrlfn.timing_study --worker``: a job as JSON on stdin, one marked record per line out."""
    job = json.loads(sys.stdin.read())
    run_block(job, lambda record: print(_MARK + json.dumps(record), flush=True))
    return 0


def _run_subprocess(job: Dict[str, Any], emit: Callable[[Dict[str, Any]], None]) -> None:
    """Run a job in a fresh worker process; runs it never reported become error records."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if job["settings"].get("cuda_module_loading"):
        env["CUDA_MODULE_LOADING"] = job["settings"]["cuda_module_loading"]
    seen = set()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "slimrlfn.timing_study", "--worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        try:
            proc.stdin.write(json.dumps(job))
            proc.stdin.close()
            for line in proc.stdout:
                if line.startswith(_MARK):
                    record = json.loads(line[len(_MARK):])
                    seen.add(record["run"])
                    emit(record)
            status = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err.seek(0)
        lines = [line.strip() for line in err.read().splitlines() if line.strip()]
    for run in job["runs"]:
        if run not in seen:
            emit({"model": job["source"]["model"], "label": job["source"]["label"], "scenario": job["scenario"],
                  "protocol": job["settings"]["protocol"], "pid": proc.pid, "run": run, "status": "error",
                  "error": f"worker exited with status {status}: {lines[-1] if lines else 'no message'}",
                  "samples": [], "groups": {}})


# --- a study: scenarios, resume --------------------------------------------------------------------

def _first_difference(old: Any, new: Any, prefix: str = "") -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{prefix}{key}.")
    return f"{prefix.rstrip('.')}: {old!r} there, {new!r} now"


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


def run_study(models: Sequence[str], scenario: str = "separate", runs: int = 5, protocol: str = "ntire",
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
    from tqdm.auto import tqdm

    if not isinstance(runs, int) or runs < 1:
        raise UserError(f"--runs {runs}: expected at least 1 run")
    if scenario not in SCENARIOS:
        raise UserError(f"--scenario {scenario!r}: expected one of {', '.join(SCENARIOS)}")
    if scenario == "separate" and not isolate:
        raise UserError("the separate scenario needs a fresh process per run (isolate=True)")
    # The arguments first (backend, device, protocol), then the checkpoints they apply to.
    settings = make_settings(protocol, device, data_dir, split, warmup, iters, sizes, threads, channels_last,
                             fp16, cudnn_benchmark, cuda_module_loading, backend=backend)
    sources = resolve_sources(models)
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
            raise UserError(f"--out {out}: written with other settings ({_first_difference(old_identity, identity)}); "
                            f"pass --overwrite to start again or choose another --out")
    study = {"kind": "slimrlfn-timing-study", "version": 1, "identity": identity, "scenario": scenario,
             "protocol": settings.protocol, "runs": runs, "settings": asdict(settings), "models": sources,
             "parent_pid": os.getpid(), "device_info": _platform_info(torch.device(settings.device)),
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
                _run_subprocess(job, emit)
            else:
                run_block(job, emit)
    finally:
        bar.close()
    if out is not None:
        atomic_write_json(out, study)
    return study


# --- the command ----------------------------------------------------------------------------------

def _parse_size(text: str) -> List[int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"--sizes {text}: expected HxW, e.g. 256x256") from None
    return [h, w]


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``slimrlfn time`` flags."""
    from .zoo import ZOO

    parser.add_argument("--models", nargs="+", default=list(ZOO), help="zoo names or .pth checkpoints")
    parser.add_argument("--data_dir", default="data/sample", help="NTIRE-layout data (ntire and warm protocols)")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--scenario", default="separate", help="separate (a fresh process per run) or consecutive")
    parser.add_argument("--runs", type=int, default=5, help="runs per model (the seed: 5)")
    parser.add_argument("--protocol", default="ntire", help="ntire (official loop), warm or micro")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--out", default=None, help="results JSON (default runs/timing/<scenario>_<protocol>.json); "
                                                    "an existing file with the same settings is resumed")
    parser.add_argument("--overwrite", action="store_true", help="start again even if --out exists")
    parser.add_argument("--threads", type=int, default=None, help="CPU intra-op threads (default: torch's)")
    parser.add_argument("--backend", default="eager", choices=BACKENDS,
                        help="inference path (default eager: PyTorch as the challenge timed it; auto = the fastest "
                             "exact path of the device; see slimrlfn.backends)")
    parser.add_argument("--channels_last", action="store_true")
    parser.add_argument("--fp16", action="store_true", help="half precision (GPU only)")
    parser.add_argument("--cudnn_benchmark", action="store_true", help="cudnn.benchmark = True (GPU only)")
    parser.add_argument("--cuda_module_loading", default=None, help="LAZY or EAGER for the worker processes (GPU only)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm: passes over the images (default 1); micro: iterations per size (default 3)")
    parser.add_argument("--iters", type=int, default=10, help="micro: timed iterations per size")
    parser.add_argument("--sizes", nargs="+", default=None, help="micro: LR sizes HxW (default 256x256 339x510)")
    parser.add_argument("--in_process", action="store_true", help="consecutive: run in this process, not a fresh worker")
    return parser


def run_from_args(args: argparse.Namespace) -> int:
    """Run the study the arguments describe, print the seed-style table; 0 when every run finished."""
    from .timing_report import format_table

    suffix = "" if args.backend == "eager" else f"_{args.backend}"
    out = args.out or f"runs/timing/{args.scenario}_{args.protocol}{suffix}.json"
    sizes = [_parse_size(s) for s in args.sizes] if args.sizes else None
    study = run_study(args.models, args.scenario, args.runs, args.protocol, args.data_dir, args.device,
                      args.warmup, args.iters, sizes, args.threads, args.channels_last, args.fp16,
                      args.cudnn_benchmark, args.cuda_module_loading, args.split, out, args.overwrite,
                      isolate=not args.in_process, backend=args.backend)
    print(format_table(study), end="")
    print(f"-> {out}")
    return 0 if all(r["status"] == "ok" for r in study["records"]) else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        raise SystemExit(_worker_main())
    from .cli import main as _cli_main

    raise SystemExit(_cli_main(["time", *sys.argv[1:]]))
