"""Locks: around a read-merge-write of a results file shared by several processes, and around a whole run's output.

Without it, two ``slimrlfn eval`` processes that read ``results.json``, each add their own entry and write it back
lose one of the two entries. On POSIX the lock is an ``flock`` on the results file's folder itself, so that no lock
file is left behind and the kernel drops it when a holder dies; elsewhere it is ``filelock`` on ``.<name>.lock``
beside the file (left there: deleting it would race with a process waiting on it).
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator

from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike
from slimrlfn.core.outputs import no_empty_folders_on_failure

__all__ = ["locked", "output_lock"]

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


def _timed_out(path: Path, timeout_s: float) -> UserError:
    return UserError(f"{path}: another process has held its lock for {timeout_s:.0f} s; is a run still writing there?")


@contextlib.contextmanager
def _folder_lock(folder: Path, timeout_s: float, poll_s: float, refusal: UserError) -> Iterator[None]:
    """``flock`` on ``folder`` for the body, tried every ``poll_s`` for ``timeout_s`` (0: once); ``refusal`` then."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise refusal from None
                time.sleep(poll_s)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(path: PathLike, timeout_s: float = 600.0, poll_s: float = 0.01) -> Iterator[None]:
    """Hold the lock of results file ``path`` (creating its folder) for the body; UserError after ``timeout_s``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is not None:
        with _folder_lock(path.parent, timeout_s, poll_s, _timed_out(path, timeout_s)):
            yield
        return
    from filelock import FileLock, Timeout  # the fallback where flock is missing

    lock = FileLock(str(path.with_name(f".{path.name}.lock")), timeout=timeout_s)
    try:
        lock.acquire()
    except Timeout:
        raise _timed_out(path, timeout_s) from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def output_lock(folder: PathLike, flag: str) -> Iterator[None]:
    """Hold ``folder`` (made when missing) for one run (a pruning, training or QAT run writes there for minutes): a
    second run into the same folder is refused at once, in one line, instead of both doing all the work and the last
    writer's files remaining with timings taken beside its twin. POSIX ``flock`` on the folder (dropped by the kernel
    when a holder dies); ``filelock`` on ``.slimrlfn-run.lock`` beside it elsewhere."""
    # a run refused before it wrote anything leaves no empty folder behind, its new parents neither
    with no_empty_folders_on_failure(folder, always=True) as folder:
        folder.mkdir(parents=True, exist_ok=True)
        with _output_lock(folder, flag):
            yield


@contextlib.contextmanager
def _output_lock(folder: Path, flag: str) -> Iterator[None]:
    busy = UserError(f"{flag} {folder}: another run is writing there right now; wait for it to finish or choose "
                     f"another {flag}")
    if fcntl is None:  # pragma: no cover - Windows
        from filelock import FileLock, Timeout

        lock = FileLock(str(folder / ".slimrlfn-run.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise busy from None
        try:
            yield
        finally:
            lock.release()
        return
    with _folder_lock(folder, 0.0, 0.0, busy):
        yield
