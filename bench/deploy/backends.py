"""Issue 6's benchmark: every inference path side by side, and the CPU targets checked in the same run.

Per model (RLFN, SlimRLFN, SlimRLFN-prune) and LR size (256x256 and the DIV2K-sized 339x510), every
backend available on the device (``auto`` included, shown with what it resolved to) -- see
:mod:`slimrlfn.deploy.bench` for how each number is taken:

* median and IQR time per call [ms]; the first call after set-up [ms]; the set-up (export/compile) [s];
* GFLOP/s (2 x fvcore FLOPs / median) and its share of this machine's fp32 matmul peak, measured in
  the same run at the same thread count;
* the largest difference to eager fp32 on the [0, 255] output (a real photo).

Targets (2-core CPU, fp32, 2 threads): the default path (``auto``) runs SlimRLFN-prune at 256x256 at
>= 80% of the matmul peak, and no slower than OpenVINO in the same run (openvino / auto >= 1 within
its bootstrap 95% CI). Written to ``--out`` as JSON.

    python bench/deploy/backends.py                      # all models and sizes, 15 rounds
    python bench/deploy/backends.py --models slimrlfn_prune --sizes 256x256 --rounds 40
"""
from __future__ import annotations

import argparse
import sys

from slimrlfn.core.errors import UserError
from slimrlfn.deploy.bench import target_summary
from slimrlfn.deploy.command import add_backends_arguments as add_arguments
from slimrlfn.deploy.command import compare_from_args as run_from_args


def main() -> int:
    parser = add_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.set_defaults(out="runs/bench/backends.json")
    args = parser.parse_args()
    try:
        document = run_from_args(args)
    except UserError as exc:
        print(f"backends: error: {exc}", file=sys.stderr)
        return 2
    summary = target_summary(document)
    if not summary["measured"]:
        print("targets: not measured (needs slimrlfn_prune at 256x256 with the auto backend)")
        return 0
    ratio = summary["openvino_over_auto"]
    print(f"target 1: default path ({summary['auto']}) at {summary['peak_fraction']:.1%} of the matmul peak "
          f"(>= 80%): {'met' if summary['peak_target_met'] else 'MISSED'}")
    if ratio is None:
        print("target 2: openvino not measured beside auto (install the deploy extra)")
    else:
        print(f"target 2: openvino / auto = {ratio['ratio']:.3f} [{ratio['ci'][0]:.3f}, {ratio['ci'][1]:.3f}] "
              f"(auto no slower than OpenVINO): {'met' if summary['no_slower_than_openvino'] else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
