"""``python -m slimrlfn.train`` / ``torchrun -m slimrlfn.train``: the same as ``slimrlfn train``."""
from slimrlfn.core.entry import run_single
from slimrlfn.train.command import add_arguments, run_from_args

if __name__ == "__main__":
    raise SystemExit(run_single("train", add_arguments, run_from_args, description="train SlimRLFN"))
