"""Running one sub-command from the command line: argparse whose usage errors are one line, and the runner that
turns a :class:`~slimrlfn.core.errors.UserError` into ``slimrlfn: error: ...`` and exit status 2 (130 on Ctrl-C).

``slimrlfn`` (:mod:`slimrlfn.cli`) and each ``python -m slimrlfn.<package>`` (its ``__main__.py``, which names
its own command module, so that nothing imports the command line from below) both run through here.
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
from typing import Callable, List, NoReturn, Optional

from slimrlfn.core.errors import UserError

__all__ = ["OneLineParser", "run_parsed", "run_single"]


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``slimrlfn: error: ...``), exit status 2."""

    def error(self, message: str) -> "NoReturn":  # type: ignore[override]
        self.exit(2, f"slimrlfn: error: {self.prog.split(' ', 1)[-1]}: {message} (see --help)\n")


#: The write failures a run cannot mend itself: one line naming the file, never a traceback.
OUTPUT_FULL = {getattr(errno, name): text for name, text in (("ENOSPC", "no space left on the device"),
                                                              ("EDQUOT", "disk quota exceeded"),
                                                              ("EROFS", "the file system is read-only"))
               if hasattr(errno, name)}  # EDQUOT: not on every system


def run_parsed(build: Callable[[], argparse.ArgumentParser], argv: List[str]) -> int:
    """Parse ``argv`` with the parser ``build()`` makes and run its ``func``; the exit status.

    2 on a usage error or a UserError (one line on stderr; under torchrun only rank 0 prints), 0 for
    ``--help``, 130 on Ctrl-C, else what ``func`` returns (0 when it returns no int).
    """
    try:
        args = build().parse_args(argv)
    except SystemExit as exc:  # usage errors (status 2) and --help (status 0)
        return int(exc.code or 0)
    except UserError as exc:
        print(f"slimrlfn: error: {exc}", file=sys.stderr)
        return 2
    try:
        status = args.func(args)
        return status if isinstance(status, int) else 0
    except UserError as exc:
        if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, rank 0 speaks for all
            print(f"slimrlfn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("slimrlfn: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.errno not in OUTPUT_FULL:
            raise
        where = exc.filename or "an output file"
        print(f"slimrlfn: error: {where}: {OUTPUT_FULL[exc.errno]} while writing; free some space or choose another "
              f"output folder (files written whole are kept, and an interrupted run resumes)", file=sys.stderr)
        return 1


def run_single(name: str, add_arguments: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
               run: Callable[[argparse.Namespace], object], argv: Optional[List[str]] = None,
               description: str = "") -> int:
    """``slimrlfn NAME ...`` as one program (``python -m slimrlfn.<package>``): same flags, errors and status."""
    def build() -> argparse.ArgumentParser:
        parser = OneLineParser(prog=f"slimrlfn {name}", description=description)
        add_arguments(parser)
        parser.set_defaults(func=run)
        return parser

    return run_parsed(build, list(sys.argv[1:] if argv is None else argv))
