"""Fine-tuning sanity: a short distillation fine-tune of the official SlimRLFN must keep its Set5 PSNR.

Starts from the official SlimRLFN (``--init slimrlfn``: its 3x3 weights in the ``3x3`` branch of every
train-time conv, the other branches at zero output, see :func:`slimrlfn.arch.reparam.from_deploy`), trains
``--iterations`` steps on HR images (e.g. McMaster) with L1 plus distillation to the official RLFN at a
small learning rate, exports the fused model and compares Set5 PSNR (RGB, border 4, SR rounded to uint8,
as NTIRE) before and after; Set5 is read where it is (:func:`slimrlfn.data.pairs.find_pairs` reads a benchmark
set's ``HR/`` + ``LR_bicubic/X4/`` as the valid split). Verdict: PASS when the PSNR drops by at most ``--tolerance``
dB (0.02).

    python bench/checks/finetune_sanity.py --hr_dir ../shared/datasets/McMaster --set5 ../shared/datasets/Set5
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from slimrlfn.arch.checkpoints import load_checkpoint
from slimrlfn.arch.contract import WORKBOOK_RANGE
from slimrlfn.arch.zoo import load_zoo_model
from slimrlfn.core.devices import describe_device, resolve_device
from slimrlfn.data.validation import load_validation
from slimrlfn.train.config import load_config
from slimrlfn.train.run import train
from slimrlfn.train.validation import validate_psnr as validate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hr_dir", required=True, help="HR training images (e.g. the McMaster folder)")
    parser.add_argument("--set5", required=True, help="Set5 folder with HR/ and LR_bicubic/X4/")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr_patch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-6, help="peak learning rate (small: fine-tuning)")
    parser.add_argument("--teacher", default="rlfn")
    parser.add_argument("--distill_weight", type=float, default=1.0)
    parser.add_argument("--tolerance", type=float, default=0.02, help="largest PSNR drop allowed, dB")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device("auto")
    info = describe_device(device)
    with tempfile.TemporaryDirectory() as tmp:
        val_dir = args.set5  # read in place: a benchmark set's HR/ + LR_bicubic/X4/ is the valid split
        images = load_validation(val_dir, flag="--set5")
        official, _ = load_zoo_model("slimrlfn")
        before = validate(official, images, device, 4, data_range=WORKBOOK_RANGE)["psnr"]
        config = load_config(None, {
            "hr_dirs": [args.hr_dir], "val_dir": val_dir, "out_dir": str(Path(tmp) / "run"), "init": "slimrlfn",
            "iterations": args.iterations, "batch_size": args.batch, "lr_patch": args.lr_patch, "lr": args.lr,
            "min_lr": args.lr / 100, "warmup": max(1, args.iterations // 10), "teacher": args.teacher,
            "distill_weight": args.distill_weight, "online_fusion": True, "workers": 1,
            "val_every": max(1, args.iterations // 3), "ckpt_every": 10 ** 9, "progress": False,
        })
        summary = train(config)
        fused, _ = load_checkpoint(summary["checkpoint"])
        after = validate(fused, images, device, 4, data_range=WORKBOOK_RANGE)["psnr"]
    print(f"device: {info['device_name']} ({device}), {info['threads']} threads; {summary['iteration']} iterations "
          f"of batch {args.batch} x {args.lr_patch}x{args.lr_patch}, lr {args.lr:g}, teacher {args.teacher} "
          f"(weight {args.distill_weight}), {summary['train_seconds']:.0f} s")
    for row in summary["history"]:
        print(f"  iteration {row['iteration']:5d}: Set5 PSNR {row['psnr']:.4f} dB")
    drop = before - after
    verdict = "PASS" if drop <= args.tolerance else "FAIL"
    print(f"Set5 PSNR before {before:.4f} dB, after {after:.4f} dB (change {after - before:+.4f} dB): {verdict} "
          f"(allowed drop {args.tolerance} dB)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
