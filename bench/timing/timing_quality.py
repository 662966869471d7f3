"""How good are the warm-up study's timings on this machine? (a benchmark script, not a test)

Prints, measured side by side in one run:
1. the overhead of the timer itself (an empty timed region, per call);
2. the run-to-run coefficient of variation of the warm steady state (``micro`` protocol, one
   square input, ``--runs`` consecutive runs in this process, each run's median) for each zoo
   model, against the target of 3 % (ratio CV / target and whether it meets it);
3. the cold/warm ratio per model (``ntire`` protocol on ``--data_dir``: fresh processes vs
   consecutive runs 2..N of one process), with bootstrap 95 % CIs.

Usage: ``SLIMRLFN_MODEL_ZOO=... python bench/timing/timing_quality.py [--data_dir data/sample] [--threads 1]``.
On a CPU shared with other work, ``--threads 1`` keeps one busy thread per run; with as many
threads as cores, other processes' load shows up in the times (the script prints the load).
"""
from __future__ import annotations

import argparse
import os

import torch

from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.devices import resolve_device
from slimrlfn.metrics.latency import timer_overhead_us
from slimrlfn.metrics.stats import summarize
from slimrlfn.timing.report import cold_warm_summary, device_line
from slimrlfn.timing.study import run_study

TARGET_CV = 0.03


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", default="data/sample")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1, help="0 = torch's default")
    parser.add_argument("--size", type=int, default=256, help="side of the square micro input")
    parser.add_argument("--runs", type=int, default=5, help="consecutive runs for the CV")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--cold_runs", type=int, default=3, help="fresh processes and consecutive runs per model")
    args = parser.parse_args()
    threads = args.threads or None
    device = resolve_device(args.device)

    print("1. timer overhead (empty timed region)")
    for dev in [torch.device("cpu")] + ([device] if device.type == "cuda" else []):
        o = timer_overhead_us(dev)
        print(f"   {dev}: {o['timer']:12s} median {o['median_us']:.2f} us, mean {o['mean_us']:.2f} us per call "
              f"({o['calls']} calls)")

    print(f"\n2. run-to-run CV of the warm steady state, micro 1x3x{args.size}x{args.size}, {args.runs} runs "
          f"({args.warmup} warm-up + {args.iters} timed forwards each), target <= {100 * TARGET_CV:.0f}%")
    micro = run_study(list(ZOO), "consecutive", args.runs, "micro", device=str(device), warmup=args.warmup,
                      iters=args.iters, sizes=[[args.size, args.size]], threads=threads, isolate=False, progress=False)
    print(f"   device: {device_line(micro)}")
    for source in micro["models"]:
        medians = [r["groups"][f"{args.size}x{args.size}"]["median_ms"] for r in micro["records"]
                   if r["model"] == source["model"] and r["status"] == "ok"]
        s = summarize(medians)
        print(f"   {source['label']:15s} run medians {', '.join(f'{m:.1f}' for m in medians)} ms; "
              f"CV {100 * s['cv']:.2f}% -> CV/target {s['cv'] / TARGET_CV:.2f} "
              f"({'meets' if s['cv'] <= TARGET_CV else 'misses'} the 3% target)")

    print(f"\n3. cold/warm ratio, ntire protocol on {args.data_dir}: {args.cold_runs} fresh processes vs "
          f"consecutive runs 2-{args.cold_runs} of one process")
    common = dict(data_dir=args.data_dir, device=str(device), threads=threads, progress=False)
    separate = run_study(list(ZOO), "separate", args.cold_runs, **common)
    consecutive = run_study(list(ZOO), "consecutive", args.cold_runs, **common)
    for model, e in cold_warm_summary(separate, consecutive).items():
        if "cold_over_warm" not in e:
            print(f"   {e['label']:15s} failed runs; see the records")
            continue
        r = e["cold_over_warm"]
        print(f"   {e['label']:15s} cold {e['cold']['mean']:8.2f} ms, warm {e['warm']['mean']:8.2f} ms, "
              f"cold/warm {r['ratio']:.2f} (95% CI {r['ci'][0]:.2f}-{r['ci'][1]:.2f})")
    loads = [r.get("load_avg_1min") for s in (micro, separate, consecutive) for r in s["records"]]
    loads = [v for v in loads if v is not None]
    if loads:
        print(f"\nmachine load (1-min average) during the script: {min(loads):.2f}-{max(loads):.2f} "
              f"on {os.cpu_count()} logical CPUs")


if __name__ == "__main__":
    main()
