"""``python -m slimrlfn.prune``: the same as ``slimrlfn prune`` (same flags, one-line errors, exit status 2)."""
from slimrlfn.core.entry import run_single
from slimrlfn.prune.command import add_arguments, run_from_args

if __name__ == "__main__":
    raise SystemExit(run_single("prune", add_arguments, run_from_args, description="iterative structured pruning"))
