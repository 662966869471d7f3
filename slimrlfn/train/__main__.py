"""``python -m slimrlfn.train`` / ``torchrun -m slimrlfn.train``: the same as ``slimrlfn train``."""
import sys

from slimrlfn.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["train", *sys.argv[1:]]))
