"""Every CUDA path of the workbook in one command, for a machine with a GPU (issue 16, item 4).

Runs, on the first CUDA device, each check below and writes one JSON and one Markdown report (atomically, after
every check, so an interrupted run keeps what finished):

1. ``eval``: the three zoo models (RLFN, SlimRLFN, SlimRLFN-prune) through ``evaluate`` on the data (CUDA events
   around each forward, ``max_memory_allocated`` as ``valid_memory``), eager as ``test_demo.py`` runs them;
2. ``eval_paths``: SlimRLFN-prune through the ``fp16`` and ``cuda_graphs`` backends, and ``tensorrt`` when
   torch_tensorrt is installed: valid PSNR and runtime against eager;
3. ``timing_separate`` / ``timing_consecutive``: the seed's two tables (a fresh process per run; consecutive runs
   in one process) for the three models, ``ntire`` protocol; ``timing_eager_loading`` repeats the separate table
   with ``CUDA_MODULE_LOADING=EAGER``, ``timing_benchmark`` the consecutive one with ``cudnn.benchmark``;
4. ``backends``: every backend available on CUDA side by side at 256x256 (:mod:`slimrlfn.deploy.bench`);
5. ``amp_training``: a few training iterations of SlimRLFN with AMP (bf16) and distillation from RLFN;
6. ``nccl``: a 1-GPU NCCL process group and one all-reduce.

About 4-6 minutes on one GPU with Set5 (``--runs 5``); at most 8 by design. Without CUDA it prints one line and
exits with status 2.

``--rehearse_on_cpu`` runs the same checks on the CPU instead, so that the script's own code (the calls into the
package, the report) is proved before a GPU session spends its minutes on it: the CUDA-only paths are left out
(``eval_paths`` then has no path beside eager, ``amp_training`` trains in fp32, ``nccl`` uses ``gloo``), and the
report says in its title and in ``rehearsal`` that none of its figures is a GPU figure.

    python bench/checks/gpu_check.py --data_dir ../shared/datasets/Set5 --out runs/gpu_check
    python bench/checks/gpu_check.py --rehearse_on_cpu --runs 1 --data_dir ../shared/datasets/Set5 --out runs/gpu_rehearsal
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List

import torch

MODELS = ["rlfn", "slimrlfn", "slimrlfn_prune"]


def _eval(args: argparse.Namespace, models: List[str], backend: str, out: Path) -> Dict[str, Any]:
    from slimrlfn.arch.ref import resolve_model
    from slimrlfn.evaluate.ntire import evaluate

    rows = {}
    for name in models:
        spec = resolve_model(model=name, name=f"{name}_{backend}")
        entry = evaluate(spec, args.data_dir, out / "eval", device=args.device, overwrite=True, save_images=False,
                         progress=False, backend=backend)
        rows[spec.result_name] = {k: entry.get(k) for k in ("valid_ave_psnr", "valid_ave_runtime", "valid_runtime",
                                                          "valid_memory", "memory_kind", "backend_info")}
    return rows


def check_eval(args, out):
    return _eval(args, MODELS, "eager", out)


def check_eval_paths(args, out):
    from slimrlfn.deploy.backends import available_backends

    paths = [b for b in ("fp16", "cuda_graphs", "tensorrt") if b in available_backends(torch.device(args.device))]
    return {"paths": paths, "rows": {b: _eval(args, ["slimrlfn_prune"], b, out) for b in ["eager", *paths]}}


def _timing(args, out, name, scenario, **flags):
    from slimrlfn.timing.report import format_table, study_table
    from slimrlfn.timing.study import run_study

    study = run_study(MODELS, scenario, args.runs, "ntire", args.data_dir, args.device, out=out / f"{name}.json",
                      overwrite=True, progress=False, **flags)
    return {"table": format_table(study), "rows": study_table(study)}


def check_timing_separate(args, out):
    return _timing(args, out, "timing_separate", "separate")


def check_timing_consecutive(args, out):
    return _timing(args, out, "timing_consecutive", "consecutive")


class Skipped(Exception):
    """A check that has nothing to run on this device (the rehearsal's GPU-only factors)."""


def check_timing_eager_loading(args, out):
    if args.device != "cuda":
        raise Skipped("CUDA_MODULE_LOADING is a GPU factor")
    return _timing(args, out, "timing_eager_loading", "separate", cuda_module_loading="EAGER")


def check_timing_benchmark(args, out):
    if args.device != "cuda":
        raise Skipped("cudnn.benchmark is a GPU factor")
    return _timing(args, out, "timing_benchmark", "consecutive", cudnn_benchmark=True)


def check_backends(args, out):
    from slimrlfn.deploy.bench import compare_backends, format_rows

    document = compare_backends(["slimrlfn_prune"], [(256, 256)], None, 15, args.device, str(out / "backends.json"),
                                progress=False)
    return {"table": format_rows(document["rows"]), "rows": document["rows"]}


def check_amp_training(args, out):
    from slimrlfn.data.pairs import find_pairs
    from slimrlfn.train.config import TrainConfig
    from slimrlfn.train.run import train

    hr_dir = str(find_pairs(args.data_dir)[0].hr_path.parent)
    config = TrainConfig(hr_dirs=[hr_dir], val_dir=args.data_dir, out_dir=str(out / "train"), iterations=20,
                         batch_size=4, lr_patch=32, warmup=2, teacher="rlfn", amp=True, amp_dtype="bf16",
                         device=args.device, workers=0, log_every=5, val_every=20, ckpt_every=20, overwrite=True,
                         progress=False)
    summary = train(config)
    return {k: summary.get(k) for k in ("iteration", "val_psnr", "train_seconds", "patches_per_second", "device_info")}


def check_nccl(args, out):
    import torch.distributed as dist

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dist.init_process_group("nccl" if args.device == "cuda" else "gloo", init_method=f"tcp://127.0.0.1:{port}",
                            rank=0, world_size=1)
    try:
        value = torch.full((4,), 2.0, device=args.device)
        dist.all_reduce(value)
        if args.device == "cuda":
            torch.cuda.synchronize()
        return {"backend": dist.get_backend(), "all_reduce": value.tolist()}
    finally:
        dist.destroy_process_group()


CHECKS: Dict[str, Callable[[argparse.Namespace, Path], Any]] = {
    "eval": check_eval, "eval_paths": check_eval_paths, "timing_separate": check_timing_separate,
    "timing_consecutive": check_timing_consecutive, "timing_eager_loading": check_timing_eager_loading,
    "timing_benchmark": check_timing_benchmark, "backends": check_backends, "amp_training": check_amp_training,
    "nccl": check_nccl,
}


def _markdown(report: Dict[str, Any]) -> str:
    title = (f"# gpu_check REHEARSAL on the CPU ({report['device']}, torch {report['torch']}): no GPU figures"
             if report["rehearsal"] else f"# gpu_check on {report['device']} ({report['torch']}, CUDA {report['cuda']})")
    lines = [title, "",
             "| check | status | seconds |", "|---|---|---:|"]
    lines += [f"| {name} | {c['status']}{': ' + c['error'] if c.get('error') else ''} | {c['seconds']:.1f} |"
              for name, c in report["checks"].items()]
    for name, check in report["checks"].items():
        result = check.get("result")
        if isinstance(result, dict) and "table" in result:
            lines += ["", f"## {name}", "", "```", result["table"].rstrip(), "```"]
        elif result is not None:
            lines += ["", f"## {name}", "", "```json", json.dumps(result, indent=1, default=str)[:4000], "```"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="data/sample", help="NTIRE-layout data or a benchmark set (Set5)")
    parser.add_argument("--out", default="runs/gpu_check", help="folder of gpu_check.json / .md")
    parser.add_argument("--runs", type=int, default=5, help="runs per timing table (the seed: 5)")
    parser.add_argument("--only", nargs="+", choices=list(CHECKS), default=None, help="these checks only")
    parser.add_argument("--rehearse_on_cpu", action="store_true",
                        help="run the checks on the CPU to prove the script before a GPU session (no GPU figures)")
    args = parser.parse_args(argv)
    args.device = "cpu" if args.rehearse_on_cpu else "cuda"
    if not args.rehearse_on_cpu and not torch.cuda.is_available():
        print(f"gpu_check: no CUDA device here (torch {torch.__version__}, CUDA build {torch.version.cuda}); "
              f"run it on a machine with a GPU", file=sys.stderr)
        return 2
    from slimrlfn.core.errors import UserError
    from slimrlfn.core.files import atomic_write_json, atomic_write_text
    from slimrlfn.core.outputs import check_output_dir
    from slimrlfn.data.pairs import find_pairs

    try:
        out = check_output_dir(args.out, "--out")
        find_pairs(args.data_dir)
    except UserError as exc:
        print(f"gpu_check: error: {exc}", file=sys.stderr)
        return 2
    if args.runs < 1:
        print(f"gpu_check: error: --runs {args.runs}: expected at least 1", file=sys.stderr)
        return 2
    if args.rehearse_on_cpu:
        from slimrlfn.core.devices import describe_device

        device_name = describe_device(torch.device("cpu"))["device_name"]
    else:
        device_name = torch.cuda.get_device_name(0)
    report: Dict[str, Any] = {"device": device_name, "rehearsal": args.rehearse_on_cpu, "torch": torch.__version__,
                              "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
                              "data_dir": str(args.data_dir), "runs": args.runs, "started": time.time(),
                              "checks": {}}
    work = Path(tempfile.mkdtemp(prefix="gpu_check-", dir=out.parent if out.parent.exists() else None))
    for name in args.only or list(CHECKS):
        begin = time.perf_counter()
        print(f"== {name}", flush=True)
        try:
            result, status, error = CHECKS[name](args, work), "ok", None
        except Skipped as why:
            result, status, error = None, "skipped", str(why)
        except Exception as exc:  # noqa: BLE001 (a failing path is a finding; the others still run)
            result, status, error = None, "failed", f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            report.setdefault("tracebacks", {})[name] = traceback.format_exc()
        report["checks"][name] = {"status": status, "error": error, "seconds": time.perf_counter() - begin,
                                  "result": result}
        print(f"   {status} in {report['checks'][name]['seconds']:.1f} s{': ' + error if error else ''}", flush=True)
        atomic_write_json(out / "gpu_check.json", report)
        atomic_write_text(out / "gpu_check.md", _markdown(report))
    print(f"-> {out / 'gpu_check.json'}, {out / 'gpu_check.md'}; work files in {work}")
    return 0 if all(c["status"] in ("ok", "skipped") for c in report["checks"].values()) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
