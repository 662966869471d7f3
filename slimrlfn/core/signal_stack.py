"""Keep the calling thread's alternate signal stack as it was around calls into native libraries.

OpenVINO's CPU plugin (2024-2026 releases) installs an alternate signal stack (``sigaltstack``,
11568 bytes) on the thread that first runs an inference and leaves it registered after the buffer
behind it is gone. Python installs its signal handlers with ``SA_ONSTACK``, so the next handled
signal on that thread (SIGINT from Ctrl-C or a Jupyter interrupt, SIGCHLD once a PyTorch
DataLoader has set its handler) is delivered onto freed memory and the process dies with a
segmentation fault (``si_code`` SI_KERNEL). Found in this project's test suite: an OpenVINO
evaluation followed, in the same process, by a DataLoader with workers and a subprocess.

:func:`keep_signal_stack` saves the thread's stack before the call and puts it back afterwards
when the call changed it. Linux only (glibc ``sigaltstack``); elsewhere it does nothing.
"""
from __future__ import annotations

import contextlib
import ctypes
import sys
from typing import Iterator, Optional, Tuple

__all__ = ["current_signal_stack", "keep_signal_stack"]


class _StackT(ctypes.Structure):
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int), ("ss_size", ctypes.c_size_t)]


_SS_DISABLE = 2
_libc = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.sigaltstack.argtypes = [ctypes.POINTER(_StackT), ctypes.POINTER(_StackT)]
    except (OSError, AttributeError):  # pragma: no cover - a libc without sigaltstack
        _libc = None


def _get() -> Optional[_StackT]:
    if _libc is None:
        return None
    stack = _StackT()
    if _libc.sigaltstack(None, ctypes.byref(stack)) != 0:
        return None
    return stack


def current_signal_stack() -> Optional[Tuple[int, int, int]]:
    """The calling thread's alternate signal stack as (address, flags, size in bytes); None off Linux."""
    stack = _get()
    return None if stack is None else (stack.ss_sp or 0, stack.ss_flags, stack.ss_size)


@contextlib.contextmanager
def keep_signal_stack() -> Iterator[None]:
    """Run the body; afterwards restore the thread's alternate signal stack if the body replaced it."""
    before = _get()
    try:
        yield
    finally:
        after = _get()
        if before is not None and after is not None and \
                (after.ss_sp, after.ss_size, after.ss_flags & _SS_DISABLE) != (before.ss_sp, before.ss_size, before.ss_flags & _SS_DISABLE):
            restore = _StackT(before.ss_sp, before.ss_flags & _SS_DISABLE, before.ss_size)
            _libc.sigaltstack(ctypes.byref(restore), None)
