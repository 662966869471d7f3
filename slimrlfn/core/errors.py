"""The one exception type for bad user input.

A :class:`UserError` carries a single line that names the file or argument at fault and what was
expected. The command line prints it as ``slimrlfn: error: <line>`` and exits with status 2,
without a traceback; library callers can catch it like any exception.
"""
from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """Bad input from the user (a path, an argument, a file's content): one line, no traceback."""
