"""``python -m slimrlfn.field``: the same as ``slimrlfn field``; ``--worker`` alone runs one job of a field.

A worker reads a job (JSON) on stdin and writes one marked record per run (:mod:`slimrlfn.field.worker`).
"""
import sys

from slimrlfn.core.entry import run_single
from slimrlfn.field.command import add_arguments, run_from_args
from slimrlfn.field.worker import worker_main

if __name__ == "__main__":
    raise SystemExit(worker_main() if sys.argv[1:] == ["--worker"] else
                     run_single("field", add_arguments, run_from_args,
                                description="the field study: does the official timing protocol reorder the ranking?"))
