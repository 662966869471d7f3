"""Worker processes that die with their parent.

A worker (a timing run, a field job, a backend) that outlives a killed parent goes on using the cores that the next
measurement needs, and may write results nobody reads. Two guards, both cheap:

- :func:`die_with_parent` (Linux): ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child between fork and exec, as a
  ``preexec_fn`` of :class:`subprocess.Popen`; the kernel kills the child the moment its parent dies;
- :func:`watch_parent` (every platform): a daemon thread in the worker that exits the process when its parent pid
  (given at start, so that a parent gone before the thread started is noticed too) is no longer its parent.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from typing import Optional

__all__ = ["PARENT_PID_ENV", "die_with_parent", "watch_parent"]

#: The environment variable in which a parent passes its pid to the workers it starts.
PARENT_PID_ENV = "SLIMRLFN_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux; a no-op elsewhere). For ``preexec_fn``."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _parent_gone(parent_pid: int) -> bool:
    return os.getppid() != parent_pid


def watch_parent(parent_pid: Optional[int] = None, interval_s: float = 0.5) -> Optional[threading.Thread]:
    """Exit this process (status 1) within ``interval_s`` of its parent's death; returns the watcher thread.

    ``parent_pid`` defaults to :data:`PARENT_PID_ENV` from the environment, else the current parent. Nothing is
    started when neither is known.
    """
    if parent_pid is None:
        text = os.environ.get(PARENT_PID_ENV, "")
        parent_pid = int(text) if text.isdigit() else os.getppid()
    if parent_pid <= 1:
        return None
    if _parent_gone(parent_pid):
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if _parent_gone(parent_pid):
                os._exit(1)

    thread = threading.Thread(target=watch, name="slimrlfn-watch-parent", daemon=True)
    thread.start()
    return thread
