"""Reproduce SlimRLFN-prune: prune the official SlimRLFN to ``prune_channels = [28] * 10 + [30, 30]``, fine-tune, Set5.

For each criterion (``--criteria``, default l1 taylor l2 random) an iterative run of
:func:`slimrlfn.prune.schedule.prune_iteratively` starts from the official SlimRLFN, removes
``--channels_per_step`` channels per layer per step (inner channels only, never below the target
shape), and fine-tunes after each step on the HR images of ``--hr_dir`` (the 18 McMaster photos)
with L1 + ``--distill_weight`` x L1 to the unpruned SlimRLFN, so that the whole run (data
preparation, pruning, fine-tuning, validation) fits ``--minutes`` of wall time. The final model is
then evaluated on Set5 exactly as ``slimrlfn eval`` does (RGB PSNR, border 4, SR rounded to uint8),
beside the official SlimRLFN and SlimRLFN-prune (reference: 30.068 and 30.046 dB RGB).

Set5 is given to the run in the NTIRE layout through symbolic links under ``--out_dir``
(``Set5/HR/NAME.png``, ``Set5/LR_bicubic/X4/NAMEx4.png``); nothing is copied. Results:
``--out_dir/reproduction.json`` and a table on stdout.

    python bench/pruning/prune_reproduction.py --minutes 30 --criteria l1 taylor
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

from slimrlfn.arch.ref import resolve_model
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.devices import describe_device, resolve_device
from slimrlfn.core.files import atomic_write_json
from slimrlfn.evaluate.ntire import evaluate
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings
from slimrlfn.prune.units import unit_widths

TARGET = "slimrlfn_prune"


def set5_ntire(set5: Path, root: Path) -> Path:
    """Set5 in the NTIRE layout under ``root`` as symbolic links (no copies)."""
    hr_dir, lr_dir = root / "DIV2K_LSDIR_valid_HR", root / "DIV2K_LSDIR_valid_LR"
    hr_dir.mkdir(parents=True, exist_ok=True)
    lr_dir.mkdir(parents=True, exist_ok=True)
    for hr in sorted((set5 / "HR").glob("*.png")):
        for link, target in ((hr_dir / hr.name, hr), (lr_dir / f"{hr.stem}x4.png", set5 / "LR_bicubic" / "X4" / f"{hr.stem}x4.png")):
            if not link.exists():
                os.symlink(target.resolve(), link)
    return root


def steps_to_target(channels_per_step: int) -> int:
    start = unit_widths(ZOO["slimrlfn"].config)
    target = unit_widths(ZOO[TARGET].config)
    return max(math.ceil((start[u] - target[u]) / channels_per_step) for u in start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="wall-time budget per criterion (whole run)")
    parser.add_argument("--criteria", nargs="+", default=["l1", "taylor", "l2", "random"])
    parser.add_argument("--hr_dir", default=os.environ.get("SLIMRLFN_SHARED", "../shared") + "/datasets/McMaster")
    parser.add_argument("--set5", default=os.environ.get("SLIMRLFN_SHARED", "../shared") + "/datasets/Set5")
    parser.add_argument("--out_dir", default="runs/prune_reproduction")
    parser.add_argument("--channels_per_step", type=int, default=1)
    parser.add_argument("--reserve_minutes", type=float, default=2.5,
                        help="part of the budget kept for data preparation, surgery, validation and timing")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--lr_patch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--distill_weight", type=float, default=1.0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    out_dir = Path(args.out_dir)
    val_dir = set5_ntire(Path(args.set5), out_dir / "set5_ntire")
    device = resolve_device(args.device)
    steps = steps_to_target(args.channels_per_step)
    per_step = (args.minutes - args.reserve_minutes) / steps
    print(f"device: {describe_device(device)['device_name']} ({device}), {describe_device(device)['threads']} threads; "
          f"{steps} steps of {args.channels_per_step} channel(s) per layer, {per_step:.2f} min fine-tuning each", flush=True)
    previous = out_dir / "reproduction.json"
    # Rows of criteria run earlier (another invocation) are kept; a criterion run now replaces its row.
    rows = json.loads(previous.read_text())["rows"] if previous.exists() else {}
    for criterion in args.criteria:
        if (out_dir / criterion / "records.jsonl").exists() and criterion in rows:
            raise SystemExit(f"{out_dir / criterion}: finished run of '{criterion}' exists; move it away to rerun")
        settings = PruneSettings(
            model="slimrlfn", out_dir=str(out_dir / criterion), val_dir=str(val_dir), hr_dirs=[args.hr_dir],
            criterion=criterion, scope=["inner"], rank="per_layer", channels_per_step=args.channels_per_step,
            target_shape=TARGET, finetune_iterations=10 ** 7, finetune_minutes=per_step,
            batch_size=args.batch_size, lr_patch=args.lr_patch, lr=args.lr, distill_weight=args.distill_weight,
            teacher="start", latency_size=128, latency_runs=3, device=args.device, progress=False)
        begin = time.perf_counter()
        load_before = os.getloadavg()[0]
        summary = prune_iteratively(settings, log=lambda line: print(f"[{criterion}] {line}", flush=True))
        minutes = (time.perf_counter() - begin) / 60.0
        records = [json.loads(line) for line in (out_dir / criterion / "records.jsonl").read_text().splitlines()]
        spec = resolve_model(checkpoint=summary["final_checkpoint"], name=f"pruned_{criterion}")
        entry = evaluate(spec, val_dir, out_dir / "eval", device=args.device, overwrite=True, save_images=False,
                         progress=False)
        rows[criterion] = {
            "set5_psnr": entry["valid_ave_psnr"], "set5_psnr_y": entry["valid_ave_psnr_y"],
            "minutes": minutes, "iterations": sum(r["finetune"]["iterations"] for r in records),
            "psnr_before_finetune": [r["psnr_before"] for r in records[1:]],
            "psnr_after_finetune": [r["psnr_after"] for r in records[1:]],
            "prune_channels": summary["final_config"]["prune_channels"],
            "params_m": summary["final_params_m"], "flops_g": summary["final_flops_g"],
            "checkpoint": summary["final_checkpoint"],
            "threads": describe_device(device)["threads"],
            "load_average_1min": [load_before, os.getloadavg()[0]],
            "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        print(f"[{criterion}] Set5 {entry['valid_ave_psnr']:.3f} dB RGB ({entry['valid_ave_psnr_y']:.3f} Y) after "
              f"{rows[criterion]['iterations']} iterations in {minutes:.1f} min", flush=True)
        atomic_write_json(out_dir / "reproduction.json", {"rows": rows, "args": vars(args),
                                                          "device_info": describe_device(device)})
    references = {}
    for name in ("slimrlfn", TARGET):
        entry = evaluate(resolve_model(name), val_dir, out_dir / "eval", device=args.device, overwrite=True,
                         save_images=False, progress=False)
        references[ZOO[name].label] = entry["valid_ave_psnr"]
    atomic_write_json(out_dir / "reproduction.json", {"rows": rows, "references": references, "args": vars(args),
                                                      "device_info": describe_device(device)})
    print(f"\n{'model':22s} {'Set5 RGB [dB]':>13s} {'Y [dB]':>8s} {'iterations':>10s} {'minutes':>8s} {'>= 30.02':>8s}")
    for label, value in references.items():
        print(f"{label + ' (official)':22s} {value:13.3f}")
    for criterion, row in rows.items():
        print(f"{'pruned, ' + criterion:22s} {row['set5_psnr']:13.3f} {row['set5_psnr_y']:8.3f} {row['iterations']:10d} "
              f"{row['minutes']:8.1f} {'yes' if row['set5_psnr'] >= 30.02 else 'no':>8s}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
