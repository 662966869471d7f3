"""``python -m slimrlfn.evaluate``: the same as ``slimrlfn eval``."""
import sys

from slimrlfn.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["eval", *sys.argv[1:]]))
