"""The one exception type for bad user input.

A :class:`UserError` carries a single line that names the file or argument at fault and what was
expected. The command line prints it as ``slimrlfn: error: <line>`` and exits with status 2,
without a traceback; library callers can catch it like any exception.
"""
from __future__ import annotations

__all__ = ["UserError", "one_line"]


class UserError(Exception):
    """Bad input from the user (a path, an argument, a file's content): one line, no traceback."""


def one_line(exc: BaseException) -> str:
    """``exc`` as one line for a record: a UserError's own line, else ``Type: first line of its message``."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else ""
    return line if isinstance(exc, UserError) else f"{type(exc).__name__}: {line}".rstrip(": ")
