"""The README's table of a challenge repository: every entry that loads, evaluated on Set5 and Set14.

For each entry (``slimrlfn eval --challenge_repo DIR --model_id N`` on each data folder, eager, CPU by
default): params (M) and fvcore FLOPs (G, 1x3x256x256), the operators fvcore skipped that are not
element-wise (the FLOPs undercount when there are any), average PSNR (RGB, border 4) on each data folder,
and the mean per-image time of the last folder as ``test_demo.py`` times it (one forward per image, no
warm-up). Resumable: each folder's ``results.json`` under ``--out`` keeps the entries already done.

    python bench/field/field_table.py [--challenge_repo DIR] [--data_dirs DIR ...] [--out runs/field] [--threads N]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.ref import resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import atomic_write_text
from slimrlfn.evaluate.ntire import evaluate

#: $SLIMRLFN_SHARED, else ../shared beside the checkout (this file is bench/field/field_table.py).
SHARED = Path(os.environ.get("SLIMRLFN_SHARED", Path(__file__).resolve().parents[3] / "shared"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--challenge_repo", default=str(SHARED / "ntire2024_esr"))
    parser.add_argument("--data_dirs", nargs="+", default=[str(SHARED / "datasets" / n) for n in ("Set5", "Set14")])
    parser.add_argument("--model_ids", nargs="+", type=int, default=None, help="default: every entry that loads")
    parser.add_argument("--out", default="runs/field")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        repo = ChallengeRepo(args.challenge_repo)
    except UserError as exc:
        print(f"field_table: error: {exc}", file=sys.stderr)
        return 2
    rows, skipped = [], []
    for model_id in args.model_ids or repo.ids():
        try:
            spec = resolve_model(challenge_repo=repo.folder, model_id=model_id)
        except UserError as exc:
            skipped.append(f"{model_id}: {str(exc).removeprefix(f'entry {model_id}: ')}")
            continue
        entries = []
        for data_dir in args.data_dirs:
            save_dir = Path(args.out) / Path(data_dir).name
            done = save_dir / "results.json"
            known = json.loads(done.read_text()) if done.is_file() else {}
            if spec.result_name in known:
                entries.append(known[spec.result_name])
                continue
            entries.append(evaluate(spec, data_dir, save_dir, device=args.device, backend="eager", save_images=False,
                                    progress=False))
        rows.append((spec, entries))
        print(f"{spec.result_name}: " + ", ".join(f"{Path(d).name} {e['valid_ave_psnr']:.3f} dB"
                                                  for d, e in zip(args.data_dirs, entries)), flush=True)
    names = [Path(d).name for d in args.data_dirs]
    info = rows[0][1][-1]["device_info"] if rows else {}
    lines = ["| entry | params [M] | FLOPs [G] | fvcore skipped, not element-wise | "
             + " | ".join(f"{n} PSNR [dB]" for n in names) + f" | {names[-1]} ms / image |",
             "|---|---:|---:|---|" + "---:|" * (len(names) + 1)]
    for spec, entries in rows:
        first = entries[0]
        uncounted = ", ".join(op.split("::")[-1] for op in first.get("fvcore_uncounted", [])) or "none"
        lines.append(f"| {spec.result_name} | {first['num_parameters']:.4f} | {first['flops']:.3f} | {uncounted} | "
                     + " | ".join(f"{e['valid_ave_psnr']:.3f}" for e in entries)
                     + f" | {entries[-1]['valid_ave_runtime']:.1f} |")
    no_file = [text.split(":")[0] for text in skipped if ": missing file models/" in text]
    others = [text.replace(f" in {repo.folder}", "") for text in skipped if ": missing file models/" not in text]
    not_loaded = ([f"{', '.join(no_file)}: their models/ file is not in {repo.folder}"] if no_file else []) + others
    footer = (f"\n{info.get('device_name', '?')} ({info.get('device', '?')}), {info.get('threads', '?')} threads, "
              f"torch {info.get('torch', '?')}; eager; times: one forward per image, no warm-up, as test_demo.py. "
              f"Not loaded: " + ("; ".join(not_loaded) or "none") + ".")
    table = "\n".join(lines) + "\n" + footer + "\n"
    print("\n" + table)
    atomic_write_text(Path(args.out) / "table.md", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
