"""Evaluation overhead: ``slimrlfn.evaluate`` wall time / (bare forward times + image IO).

For each zoo model, on synthetic DIV2K-sized pairs (HR 2040x1356, LR 510x339), in one process and
side by side: (a) the whole ``evaluate()`` call (everything but the model counts: see below),
(b) the sum of bare whole-image forwards plus the image IO that NTIRE's ``test_demo.py`` does too
(read the LR and HR PNGs, write the SR PNG). The difference is the workbook's own overhead:
tensor conversion, PSNR and Y-PSNR, staging, results files.
Target: ratio <= 1.15. The model counts (fvcore, ptflops), which ``evaluate`` runs once per model
after the images, and the backend's set-up (export/compile, once per model) are timed apart and
reported, not counted in the ratio. Both sides run the same inference path (``--backend``, default
eager); the bare side is measured before and after ``evaluate`` and averaged, so drift falls on both.

    python bench/timing/eval_overhead.py [--images 3] [--device auto] [--backend eager] [--models rlfn slimrlfn]

``--hr_size H W`` makes smaller pairs (the tests run it that way, so that the bench keeps up with the package).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch

from slimrlfn.arch.ref import resolve_model
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.devices import describe_device, resolve_device, synchronize
from slimrlfn.data.images import read_image, write_image
from slimrlfn.data.pairs import find_pairs, write_pairs
from slimrlfn.arch.contract import tensor_to_uint8, uint8_to_tensor
from slimrlfn.deploy.backends import build_backend
from slimrlfn.evaluate import ntire as ev


def synthetic_hr(seed: int, height: int = 1356, width: int = 2040) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = 128 + 70 * np.sin(xx / 13.0 + seed)[..., None] * np.cos(yy / 9.0)[..., None] * np.array([1.0, 0.5, -0.7])
    return np.clip(base + rng.normal(0, 10, (height, width, 3)), 0, 255).astype(np.uint8)


@torch.no_grad()
def bare_seconds(model, pairs, device, out_dir: Path) -> float:
    total = 0.0
    for pair in pairs:
        begin = time.perf_counter()
        lr = read_image(pair.lr_path)
        sr = model(uint8_to_tensor(lr, device, 255.0))
        synchronize(device)
        total += time.perf_counter() - begin
        sr_img = tensor_to_uint8(sr, 255.0)  # (counted on the evaluate side only)
        begin = time.perf_counter()
        write_image(out_dir / f"{pair.name}.png", sr_img)
        read_image(pair.hr_path)
        total += time.perf_counter() - begin
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--backend", default="eager", help="inference path of both sides (slimrlfn.deploy.backends)")
    parser.add_argument("--models", nargs="+", default=list(ZOO), choices=list(ZOO), help="zoo models (default: all)")
    parser.add_argument("--hr_size", nargs=2, type=int, default=[1356, 2040], metavar=("H", "W"),
                        help="HR height and width of the synthetic pairs (default DIV2K's 1356 2040)")
    args = parser.parse_args()
    if args.images < 1 or min(args.hr_size) < 64:
        parser.error("--images: expected at least 1; --hr_size: expected at least 64 64")
    device = resolve_device(args.device)
    info = describe_device(device)
    print(f"device: {info['device_name']} ({info['device']}), torch {info['torch']}, threads {info['threads']}, "
          f"backend {args.backend}, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        write_pairs(((f"img{i}", synthetic_hr(i, *args.hr_size)) for i in range(args.images)), data, "valid",
                    progress=False)
        pairs = find_pairs(data)
        print(f"{'model':16s} {'eval [s]':>9s} {'bare [s]':>9s} {'ratio':>6s} {'counts [s]':>10s} {'setup [s]':>9s}  target <= 1.15")
        worst = 0.0
        for name in args.models:
            spec = resolve_model(model=name)
            runner = build_backend(args.backend, spec.model, device, check=False, data_range=255.0)
            bare_seconds(runner, pairs[:1], device, Path(tmp))  # same warm state for both measurements
            bare_before = bare_seconds(runner, pairs, device, Path(tmp))
            apart = {"counts": 0.0, "setup": 0.0}

            def timed(real, key):
                def wrapper(*a, **k):
                    begin = time.perf_counter()
                    out = real(*a, **k)
                    apart[key] += time.perf_counter() - begin
                    return out
                return wrapper

            with mock.patch.object(ev, "cached_profile", timed(ev.cached_profile, "counts")), \
                    mock.patch.object(ev, "build_backend", timed(ev.build_backend, "setup")):
                begin = time.perf_counter()
                ev.evaluate(spec, data, Path(tmp) / "out", device=device, overwrite=True, progress=False,
                            backend=args.backend)
                wall = time.perf_counter() - begin - apart["counts"] - apart["setup"]
            bare = (bare_before + bare_seconds(runner, pairs, device, Path(tmp))) / 2
            ratio = wall / bare
            worst = max(worst, ratio)
            print(f"{spec.label:16s} {wall:9.2f} {bare:9.2f} {ratio:6.3f} {apart['counts']:10.2f} {apart['setup']:9.2f}  "
                  f"{'ok' if ratio <= 1.15 else 'MISSED'}")
    print(f"worst ratio {worst:.3f} (target <= 1.15): {'met' if worst <= 1.15 else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
