"""Evidence for the pruning engine's design: what Torch-Pruning's dependency graph finds, how long it takes,
and that surgery through it is exact.

For each official model (RLFN, SlimRLFN, SlimRLFN-prune; random weights when the checkpoints are absent):

* the time to trace the :class:`torch_pruning.DependencyGraph` and sort its groups into units
  (:class:`slimrlfn.prune.groups.ChannelGroups`), median of ``--repeats``;
* the channel groups per unit kind (inner = the official ``prune_channels``, esa, feature);
* surgery: ``--channels`` channels removed from every group of every unit at once (lowest L2), the
  physically smaller model against the masked full model in float64 on a real photo: the largest
  difference on the [0, 255] output; the params and fvcore FLOPs before and after;
* for inner-only removal: that the result loads strictly into the official
  ``SlimRLFN(prune_channels=...)`` key layout.

    python bench/pruning/pruning_engine.py
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

from slimrlfn.arch.config import build_model, config_of
from slimrlfn.arch.zoo import ZOO, load_zoo_model
from slimrlfn.data.sample import real_input
from slimrlfn.metrics.counts import profile_model
from slimrlfn.prune.criteria import channel_scores, lowest
from slimrlfn.prune.groups import ChannelGroups, mask_model, prune_model


def load(name: str):
    try:
        return load_zoo_model(name)[0], "official weights"
    except Exception as exc:  # noqa: BLE001 (the checkpoints may be absent: random weights still test surgery)
        torch.manual_seed(0)
        return build_model(ZOO[name].config).eval(), f"random weights ({str(exc).splitlines()[0][:60]})"


def removal_for(groups: ChannelGroups, kinds, channels: int):
    scores = channel_scores(groups, "l2")
    removal = {}
    for unit, per_sub in scores.items():
        kind = "feature" if unit == "features" else ("esa" if unit.endswith(".esa") else "inner")
        if kind in kinds:
            removal[unit] = [lowest(s, channels) for s in per_sub]
    return removal


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(ZOO), choices=sorted(ZOO))
    parser.add_argument("--channels", type=int, default=2, help="channels removed from every group")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    x = real_input(48, 48, torch.device("cpu"), data_range=255.0).double()
    print(f"{'model':16s} {'graph [s]':>9s} {'inner':>5s} {'esa':>4s} {'feat':>4s} {'removal':>14s} "
          f"{'max|pruned-masked|':>18s} {'params [M]':>16s} {'FLOPs [G]':>16s} {'official layout':>15s}")
    for name in args.models:
        model, weights = load(name)
        times = []
        for _ in range(args.repeats):
            begin = time.perf_counter()
            groups = ChannelGroups(copy.deepcopy(model))
            times.append(time.perf_counter() - begin)
        groups = ChannelGroups(model)
        kinds_count = {"inner": 0, "esa": 0, "feature": 0}
        for unit, subs in groups.subgroups.items():
            kind = "feature" if unit == "features" else ("esa" if unit.endswith(".esa") else "inner")
            kinds_count[kind] += len(subs)
        before = profile_model(model)
        for label, kinds in (("inner", ("inner",)), ("all kinds", ("inner", "esa", "feature"))):
            removal = removal_for(groups, kinds, args.channels)
            pruned = prune_model(model, removal).double().eval()
            masked = mask_model(model, removal).double().eval()
            with torch.no_grad():
                diff = float((pruned(x) - masked(x)).abs().max())
            after = profile_model(pruned.float())
            official = "-"
            if kinds == ("inner",) and config_of(pruned).get("arch") == "slimrlfn":
                reference = build_model({**ZOO["slimrlfn"].config, "prune_channels": config_of(pruned)["prune_channels"]})
                missing = reference.load_state_dict(pruned.float().state_dict(), strict=True)
                official = "strict ok" if not (missing.missing_keys or missing.unexpected_keys) else "MISMATCH"
            print(f"{name:16s} {statistics.median(times):9.3f} {kinds_count['inner']:5d} {kinds_count['esa']:4d} "
                  f"{kinds_count['feature']:4d} {label:>14s} {diff:18.2e} "
                  f"{before['num_parameters']:7.4f}->{after['num_parameters']:.4f} "
                  f"{before['flops']:7.3f}->{after['flops']:.3f} {official:>15s}")
        print(f"  ({weights})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
