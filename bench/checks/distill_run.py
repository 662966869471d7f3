"""A short distillation run from random initialisation: Set5 PSNR curve against bicubic, after N minutes.

Trains a train-time SlimRLFN (default branches, online fusion: the same maths as summing the branches,
faster) from random weights on HR images (e.g. the 18 McMaster photos), with L1 to the HR patch plus
``--distill_weight`` x L1 to the frozen teacher's output (the official RLFN by default), Adam with
warm-up and cosine decay, for ``--minutes`` of training wall time. The number of iterations is set from
a short timing probe (its fastest step) so that the cosine schedule ends near the time limit; training
stops at the limit in any case (validation time is not counted). Validation on Set5 in the NTIRE layout, built in a temporary folder from ``Set5/HR`` and
the official ``Set5/LR_bicubic/X4`` (RGB PSNR, border 4, SR rounded to uint8, as NTIRE), against
bicubic upsampling of the same LR (``imresize_matlab(lr, 4)``, MATLAB-compatible).

    python bench/checks/distill_run.py --hr_dir ../shared/datasets/McMaster --set5 ../shared/datasets/Set5 --minutes 8
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from slimrlfn.arch.config import default_config
from slimrlfn.arch.contract import WORKBOOK_RANGE, Contract
from slimrlfn.arch.reparam import build_train_model
from slimrlfn.core.devices import describe_device, resolve_device
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.validation import load_validation
from slimrlfn.metrics import quality as metrics
from slimrlfn.train.config import load_config
from slimrlfn.train.losses import SRLoss, load_teacher
from slimrlfn.train.run import train


def ntire_set5(set5: Path, root: Path) -> Path:
    """Copy Set5 into the NTIRE layout under ``root`` (HR/NAME.png, LR_bicubic/X4/NAMEx4.png)."""
    hr_dir, lr_dir = root / "DIV2K_LSDIR_valid_HR", root / "DIV2K_LSDIR_valid_LR"
    hr_dir.mkdir(parents=True)
    lr_dir.mkdir(parents=True)
    for hr in sorted((set5 / "HR").glob("*.png")):
        shutil.copy(hr, hr_dir / hr.name)
        shutil.copy(set5 / "LR_bicubic" / "X4" / f"{hr.stem}x4.png", lr_dir / f"{hr.stem}x4.png")
    return root


def bicubic_psnr(val_dir: Path) -> float:
    images = load_validation(val_dir)
    return float(np.mean([metrics.psnr(imresize_matlab(i.lr, 4), i.hr, border=4) for i in images]))


def seconds_per_iteration(batch: int, lr_patch: int, teacher_name: str, device: torch.device, steps: int = 6) -> float:
    """Fastest of ``steps`` full training steps (student + teacher + Adam) on random patches.

    The fastest, not the median: on a shared CPU a load spike during the probe would otherwise shrink
    the run; if the machine is slower during training, ``max_minutes`` stops it near the end of the cosine.
    """
    model = build_train_model(default_config("slimrlfn"), {"online_fusion": True}).to(device)
    student = Contract(WORKBOOK_RANGE, 4)
    teacher, _ = load_teacher(teacher_name, student, device) if teacher_name != "none" else (None, None)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = SRLoss("l1", None, 1.0, data_range=255.0)
    lr = torch.rand(batch, 3, lr_patch, lr_patch, device=device) * 255
    hr = torch.rand(batch, 3, 4 * lr_patch, 4 * lr_patch, device=device) * 255
    times = []
    for _ in range(steps):
        begin = time.perf_counter()
        with torch.no_grad():
            target = teacher(lr) if teacher is not None else None
        loss, _ = loss_fn(model(lr), hr, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - begin)
    return float(min(times[1:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hr_dir", required=True, help="HR training images (e.g. the McMaster folder)")
    parser.add_argument("--set5", required=True, help="Set5 folder with HR/ and LR_bicubic/X4/")
    parser.add_argument("--minutes", type=float, default=8.0, help="training wall time")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr_patch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (short run: high)")
    parser.add_argument("--teacher", default="rlfn")
    parser.add_argument("--distill_weight", type=float, default=1.0)
    parser.add_argument("--validations", type=int, default=12, help="validation points along the run")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--out_dir", default=None, help="keep the run here (default: a temporary folder)")
    parser.add_argument("--json", default=None, help="also write the curve to this JSON file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device("auto")
    info = describe_device(device)
    with tempfile.TemporaryDirectory() as tmp:
        val_dir = ntire_set5(Path(args.set5), Path(tmp) / "set5")
        bicubic = bicubic_psnr(val_dir)
        per_iteration = seconds_per_iteration(args.batch, args.lr_patch, args.teacher, device)
        iterations = max(10, int(args.minutes * 60 / per_iteration * 0.9))
        print(f"device: {info['device_name']} ({device}), {info['threads']} threads; probe {per_iteration:.2f} s/iteration "
              f"-> {iterations} iterations in {args.minutes} min; Set5 bicubic PSNR {bicubic:.3f} dB")
        out_dir = args.out_dir or str(Path(tmp) / "run")
        config = load_config(None, {
            "hr_dirs": [args.hr_dir], "val_dir": str(val_dir), "out_dir": out_dir, "iterations": iterations,
            "batch_size": args.batch, "lr_patch": args.lr_patch, "lr": args.lr, "warmup": max(1, iterations // 20),
            "teacher": args.teacher, "distill_weight": args.distill_weight, "online_fusion": True,
            "workers": args.workers, "val_every": max(1, iterations // args.validations), "ckpt_every": 10 ** 9,
            "log_every": 10, "max_minutes": args.minutes, "progress": False, "overwrite": True,
        })
        summary = train(config)
    print(f"\n{'iteration':>9s} {'minutes':>8s} {'Set5 PSNR':>10s} {'vs bicubic':>11s}")
    for row in summary["history"]:
        print(f"{row['iteration']:9d} {row['train_minutes']:8.2f} {row['psnr']:10.3f} {row['psnr'] - bicubic:+11.3f}")
    final = summary["val_psnr"]
    print(f"after {summary['train_seconds'] / 60:.1f} min ({summary['iteration']} iterations, "
          f"{summary['patches_per_second']:.1f} patches/s, stop: {summary['stop_reason']}): Set5 PSNR {final:.3f} dB, "
          f"bicubic {bicubic:.3f} dB, difference {final - bicubic:+.3f} dB")
    if args.json:
        Path(args.json).write_text(json.dumps({"bicubic_psnr": bicubic, "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
