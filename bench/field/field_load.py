"""Every entry of an NTIRE ESR challenge repository, loaded by the workbook beside the repository's own code.

For each ``model_id`` that ``test_demo.py``'s ``select_model`` handles, in one process on the CPU:
whether it loads (and why not, in one line); the max abs difference of the float SR output of
``slimrlfn eval``'s path to the repository's own pipeline (``utils_image`` + ``test_demo.forward``) on the
LR images of ``--data_dir``, and whether the uint8 SR images are equal; params and fvcore FLOPs
(1x3x256x256) by the workbook beside the repository's own ``FlopCountAnalysis`` call; the operators
fvcore skipped (``*`` marks a FLOPs figure that undercounts: a skipped operator that is not element-wise).
Target: max abs difference 0 and equal counts for every entry that loads.

    python bench/field/field_load.py [--challenge_repo DIR] [--data_dir DIR] [--images N] [--json FILE]

Defaults: ``$SLIMRLFN_SHARED/ntire2024_esr`` and ``$SLIMRLFN_SHARED/datasets/Set5`` (``../shared`` beside
the checkout when the variable is unset), every image.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.ref import resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_json
from slimrlfn.data.pairs import find_pairs
from slimrlfn.evaluate.parity import compare_counts, compare_outputs

#: $SLIMRLFN_SHARED, else ../shared beside the checkout (this file is bench/field/field_load.py).
SHARED = Path(os.environ.get("SLIMRLFN_SHARED", Path(__file__).resolve().parents[3] / "shared"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--challenge_repo", default=str(SHARED / "ntire2024_esr"))
    parser.add_argument("--data_dir", default=str(SHARED / "datasets" / "Set5"),
                        help="LR/HR pairs (NTIRE layout or HR/ + LR_bicubic/X4/)")
    parser.add_argument("--images", type=int, default=0, help="only the first N images (0: all)")
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args(argv)
    try:
        repo = ChallengeRepo(args.challenge_repo)
        pairs = find_pairs(args.data_dir, "valid")
    except UserError as exc:
        print(f"field_load: error: {exc}", file=sys.stderr)
        return 2
    pairs = pairs[: args.images] if args.images > 0 else pairs
    print(f"{repo.test_demo}: {len(repo.ids())} entries; {len(pairs)} images of {args.data_dir}; CPU, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}")
    rows = []
    for model_id in tqdm(repo.ids(), desc="entries", unit="entry"):
        start = time.perf_counter()
        try:
            spec = resolve_model(challenge_repo=repo.folder, model_id=model_id)
        except UserError as exc:
            rows.append({"model_id": model_id, "ok": False, "reason": str(exc).removeprefix(f"entry {model_id}: ")})
            continue
        outputs = compare_outputs(repo, model_id, spec, pairs)
        counts = compare_counts(repo, model_id, spec)
        rows.append({"model_id": model_id, "ok": True, "name": spec.result_name, "data_range": spec.data_range,
                     "max_abs_float": max(r["max_abs_float"] for r in outputs),
                     "uint8_equal": all(r["uint8_equal"] for r in outputs),
                     "psnr_equal": all(r["psnr_ours"] == r["psnr_theirs"] for r in outputs),
                     "psnr": sum(r["psnr_ours"] for r in outputs) / len(outputs), **counts,
                     "seconds": time.perf_counter() - start})
    print(f"\n{'id':>3s} {'name':18s} {'range':>5s} {'max|diff|':>9s} {'uint8=':>6s} {'params M ours/theirs':>21s} "
          f"{'FLOPs G ours/theirs':>21s}  fvcore skipped (calls)")
    for r in rows:
        if not r["ok"]:
            print(f"{r['model_id']:3d} {'-':18s} not loaded: {r['reason']}")
            continue
        skipped = ", ".join(f"{op.split('::')[-1]} {n}" for op, n in r["fvcore_skipped"].items()) or "none"
        flag = "*" if r["fvcore_uncounted"] else " "
        print(f"{r['model_id']:3d} {r['name']:18s} {r['data_range']:5g} {r['max_abs_float']:9.3g} "
              f"{'yes' if r['uint8_equal'] else 'NO':>6s} {r['params_ours']:10.4f}/{r['params_theirs']:<10.4f} "
              f"{r['flops_ours']:10.4f}/{r['flops_theirs']:<9.4f}{flag} {skipped}")
    loaded = [r for r in rows if r["ok"]]
    exact = [r for r in loaded if r["max_abs_float"] == 0 and r["uint8_equal"] and r["psnr_equal"]
             and r["params_ours"] == r["params_theirs"] and r["flops_ours"] == r["flops_theirs"]]
    print(f"\n{len(loaded)} of {len(rows)} entries load; {len(exact)} of them equal the repository's own code "
          f"(outputs max abs diff 0, uint8 SR and PSNR equal, params and FLOPs equal); target: all")
    if args.json:
        atomic_write_json(args.json, rows)
    return 0 if len(exact) == len(loaded) else 1


if __name__ == "__main__":
    sys.exit(main())
