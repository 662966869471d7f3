"""``python -m slimrlfn.prune``: the same as ``slimrlfn prune`` (one-line errors, exit status 2)."""
import sys

from slimrlfn.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["prune", *sys.argv[1:]]))
