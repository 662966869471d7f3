"""``python -m slimrlfn``: the same as the ``slimrlfn`` command."""
from slimrlfn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
