"""int8 against fp32 OpenVINO for the official models: speed side by side, PSNR drop on Set5 and Set14, the gate.

For each model: the fp32 ``openvino`` path and the ``openvino_int8`` path (NNCF post-training quantization,
:mod:`slimrlfn.deploy.int8`, calibrated on McMaster from ``$SLIMRLFN_SHARED/datasets/McMaster`` when it is there,
else the embedded sample photos), in one process, timed in interleaved rounds (a shuffled order each round) on a
real photo at 1x3x256x256 and 1x3x339x510 (the speed-up is the median of the per-round ratios fp32 / int8, with a
bootstrap 95 % interval over the rounds: :mod:`slimrlfn.deploy.int8_speed`); then the mean RGB PSNR (border 4, SR
rounded to uint8) of both on every image of Set5 and Set14, and whether the default gate (0.05 dB) accepts the drop.
Prints a Markdown table and writes ``report.json`` / ``report.md`` atomically to ``--out``.

    python bench/deploy/int8_report.py [--models rlfn slimrlfn slimrlfn_prune runs/prune_faster/i24e8/final.pth] [--rounds 10]

``--int8_models DIR|- ...`` (one per model): the int8 path of that model is the IR of a finished ``slimrlfn qat``
run in DIR (quantization-aware) instead of post-training quantization (``-``).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from slimrlfn.arch.ref import load_model
from slimrlfn.core.devices import describe_device
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json, atomic_write_text
from slimrlfn.data.images import modcrop, read_image
from slimrlfn.data.pairs import find_pairs
from slimrlfn.data.sample import real_input
from slimrlfn.arch.contract import tensor_to_uint8, uint8_to_tensor
from slimrlfn.deploy.backends import build_backend
from slimrlfn.deploy.int8 import DEFAULT_MAX_DROP_DB
from slimrlfn.deploy.int8_speed import speedup, speedup_cell
from slimrlfn.metrics.quality import psnr

ROOT = Path(__file__).resolve().parents[2]  # bench/deploy/ -> the checkout
SHARED = Path(os.environ.get("SLIMRLFN_SHARED", ROOT.parent / "shared"))
CPU = torch.device("cpu")
SIZES = ((256, 256), (339, 510))


def mean_psnr(run, folder: Path) -> float:
    values = []
    with torch.no_grad():
        for pair in find_pairs(folder, "valid", 4):
            sr = tensor_to_uint8(run(uint8_to_tensor(read_image(pair.lr_path), CPU, 255.0)), 255.0)
            values.append(psnr(sr, modcrop(read_image(pair.hr_path), 4), border=4))
    return float(np.mean(values))


def time_paths(paths: dict, size: tuple, rounds: int, rng: random.Random) -> dict:
    x = real_input(*size, CPU, data_range=255.0)
    times = {name: [] for name in paths}
    with torch.no_grad():
        for name in paths:
            paths[name](x)  # the first call at this size (shape inference) is not timed
        for _ in range(rounds):
            order = list(paths)
            rng.shuffle(order)
            for name in order:
                begin = time.perf_counter()
                paths[name](x)
                times[name].append((time.perf_counter() - begin) * 1000.0)
    return {name: {"median_ms": statistics.median(v), "min_ms": min(v), "max_ms": max(v), "ms": v}
            for name, v in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["rlfn", "slimrlfn", "slimrlfn_prune"],
                        help="zoo names or checkpoints (.pth with its config), e.g. bench/pruning/prune_faster.py's final.pth")
    parser.add_argument("--int8_models", nargs="+", default=None,
                        help="per model: a finished `slimrlfn qat` folder, or - for post-training quantization")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calibration", type=Path, default=None,
                        help="folder of HR photos (default: McMaster of ../shared when present, else the sample's)")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench" / "int8")
    args = parser.parse_args(argv)
    sets = {name: SHARED / "datasets" / name for name in ("Set5", "Set14")}
    for name, folder in sets.items():
        if not (folder / "HR").is_dir():
            print(f"int8_report.py: error: {folder}: no {name} there; set SLIMRLFN_SHARED", file=sys.stderr)
            return 2
    calibration = args.calibration
    if calibration is None and (SHARED / "datasets" / "McMaster").is_dir():
        calibration = SHARED / "datasets" / "McMaster"
    qat_dirs = args.int8_models or ["-"] * len(args.models)
    if len(qat_dirs) != len(args.models):
        print(f"int8_report.py: error: --int8_models: expected {len(args.models)} values (one per model), "
              f"got {len(qat_dirs)}", file=sys.stderr)
        return 2
    rng = random.Random(0)
    begin, load_before = time.perf_counter(), os.getloadavg()[0]
    rows = []
    for model_name, qat_dir in zip(args.models, qat_dirs):
        spec = load_model(model_name, "--models")
        model = spec.model.eval()
        fp32 = build_backend("openvino", model, CPU, data_range=255.0)
        int8 = build_backend("openvino_int8", model, CPU, check=False,
                             calibration=None if calibration is None else str(calibration),
                             int8_model=None if qat_dir == "-" else qat_dir, data_range=255.0)
        row = {"model": model_name, "int8": "PTQ" if qat_dir == "-" else f"QAT {qat_dir}",
               "quantize_s": int8.details.get("quantize_s"),
               "int8_cache": int8.details.get("int8_cache"), "speed": {}, "psnr": {}}
        for size in SIZES:
            timing = time_paths({"openvino": fp32, "openvino_int8": int8}, size, args.rounds, rng)
            row["speed"][f"{size[0]}x{size[1]}"] = {**timing, **speedup(timing)}
        for name, folder in sets.items():
            fp32_db, int8_db = mean_psnr(fp32, folder), mean_psnr(int8, folder)
            row["psnr"][name] = {"fp32_db": fp32_db, "int8_db": int8_db, "drop_db": fp32_db - int8_db}
        row["gate_accepts"] = all(v["drop_db"] <= DEFAULT_MAX_DROP_DB for v in row["psnr"].values())
        rows.append(row)
        print(f"{model_name}: speed-up {row['speed']['256x256']['speedup']:.2f}x / {row['speed']['339x510']['speedup']:.2f}x, "
              f"drop Set5 {row['psnr']['Set5']['drop_db']:.3f} dB, Set14 {row['psnr']['Set14']['drop_db']:.3f} dB",
              flush=True)
    device = describe_device(CPU)
    report = {"device": device, "threads": torch.get_num_threads(), "rounds": args.rounds,
              "calibration": str(calibration) if calibration else "embedded sample photos", "rows": rows,
              "gate_db": DEFAULT_MAX_DROP_DB, "minutes": (time.perf_counter() - begin) / 60,
              "load": [load_before, os.getloadavg()[0]]}
    lines = ["# int8 (NNCF post-training, or quantization-aware where named) against fp32 OpenVINO", "",
             f"{device.get('device_name')}, {report['threads']} threads, {args.rounds} interleaved rounds, calibration: "
             f"{report['calibration']}, {report['minutes']:.1f} min, load {report['load'][0]:.2f} -> "
             f"{report['load'][1]:.2f}. Speed-up: median of the per-round ratios fp32 / int8 [95 % bootstrap "
             f"interval over the {args.rounds} rounds].", "",
             "| model | fp32 / int8 ms, 256x256 | speed-up | fp32 / int8 ms, 339x510 | speed-up | Set5 drop dB | "
             "Set14 drop dB | gate 0.05 dB |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        a, b = row["speed"]["256x256"], row["speed"]["339x510"]
        lines.append(f"| {row['model']} ({row['int8']}) | {a['openvino']['median_ms']:.1f} / {a['openvino_int8']['median_ms']:.1f} | "
                     f"{speedup_cell(a)} | {b['openvino']['median_ms']:.1f} / {b['openvino_int8']['median_ms']:.1f} | "
                     f"{speedup_cell(b)} | {row['psnr']['Set5']['drop_db']:.3f} | {row['psnr']['Set14']['drop_db']:.3f} | "
                     f"{'accepted' if row['gate_accepts'] else 'refused'} |")
    text = "\n".join(lines) + "\n"
    atomic_write_json(args.out / "report.json", report)
    atomic_write_text(args.out / "report.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except UserError as exc:
        print(f"int8_report.py: error: {exc}", file=sys.stderr)
        raise SystemExit(2)
