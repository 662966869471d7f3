"""``python -m slimrlfn.timing``: the same as ``slimrlfn time``; ``--worker`` alone runs one job of a study.

A worker reads a job (JSON) on stdin and writes one marked record per run (:mod:`slimrlfn.timing.worker`).
"""
import sys

from slimrlfn.core.entry import run_single
from slimrlfn.timing.command import add_arguments, run_from_args
from slimrlfn.timing.worker import worker_main

if __name__ == "__main__":
    raise SystemExit(worker_main() if sys.argv[1:] == ["--worker"] else
                     run_single("time", add_arguments, run_from_args, description="the warm-up timing study"))
