"""Training throughput (LR patches per second) of SlimRLFN: train-time (branches) vs deploy, side by side.

One training step = forward, L1 loss, backward, Adam step, on an in-memory batch of random LR patches
(values in [0, 255]) and HR targets: the cost of the model alone, without data loading or a teacher.
Variants, run in turn one step each for ``--steps`` rounds (so that load changes on a shared machine
hit them alike), every step timed and kept (the first, warm-up, included):

- ``deploy``: the plain SlimRLFN of :mod:`slimrlfn.arch.config` (what SlimRLFN would train without branches);
- ``train-time``: :class:`slimrlfn.arch.reparam.RepSlimRLFN` with the default branches (3x3 + 1x1 + identity +
  1x1-3x3, expand ratio 2), summed branch by branch;
- ``train-time online``: the same model with ``online_fusion`` (the fused kernel built from the branch
  weights on every forward; same function and gradients);
- ``train-time +edge``: with the ECB edge branches too (``--edge``).

Prints the median and interquartile range of the step time, patches per second, and the throughput
ratios to ``deploy``.

    python bench/timing/train_throughput.py [--batch 16] [--lr_patch 64] [--steps 8] [--threads N] [--edge]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn as nn

from slimrlfn.arch.config import build_model, default_config
from slimrlfn.arch.reparam import build_train_model
from slimrlfn.core.devices import describe_device, resolve_device, synchronize


def make_step(model: nn.Module, lr: torch.Tensor, hr: torch.Tensor):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = nn.L1Loss()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(lr) / 255.0, hr / 255.0)
        loss.backward()
        optimizer.step()

    return step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="LR patches per step")
    parser.add_argument("--lr_patch", type=int, default=64, help="LR patch side")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per variant (the first included)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--edge", action="store_true", help="also the variant with the edge branches")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    info = describe_device(device)
    print(f"device: {info['device_name']} ({device}), torch {info['torch']}, {info['threads']} CPU threads; "
          f"batch {args.batch} x 3 x {args.lr_patch} x {args.lr_patch}, {args.steps} steps per variant")
    torch.manual_seed(0)
    config = default_config("slimrlfn")
    lr = (torch.rand(args.batch, 3, args.lr_patch, args.lr_patch) * 255).to(device)
    hr = (torch.rand(args.batch, 3, 4 * args.lr_patch, 4 * args.lr_patch) * 255).to(device)
    models = {
        "deploy": build_model(config),
        "train-time": build_train_model(config),
        "train-time online": build_train_model(config, {"online_fusion": True}),
    }
    if args.edge:
        models["train-time +edge"] = build_train_model(config, {"use_edge": True})
    steps = {name: make_step(model.to(device).train(), lr, hr) for name, model in models.items()}
    times = {name: [] for name in steps}
    for _ in range(args.steps):
        for name, step in steps.items():
            synchronize(device)
            begin = time.perf_counter()
            step()
            synchronize(device)
            times[name].append(time.perf_counter() - begin)
    medians = {name: float(np.median(values)) for name, values in times.items()}
    print(f"{'variant':20s} {'params':>9s} {'median s/step':>13s} {'IQR s':>7s} {'first s':>8s} "
          f"{'patches/s':>10s} {'vs deploy':>9s}")
    for name, values in times.items():
        q1, q3 = np.percentile(values, [25, 75])
        params = sum(p.numel() for p in models[name].parameters())
        print(f"{name:20s} {params:9d} {medians[name]:13.3f} {q3 - q1:7.3f} {values[0]:8.3f} "
              f"{args.batch / medians[name]:10.1f} {medians['deploy'] / medians[name]:9.2f}")
    print(f"throughput ratio train-time / deploy: {medians['deploy'] / medians['train-time']:.3f}; "
          f"train-time online / deploy: {medians['deploy'] / medians['train-time online']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
