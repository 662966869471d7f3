"""The results-file lock (slimrlfn.core.locks): exclusive across processes, released on exit, no file left."""
import multiprocessing
import time

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.core.locks import locked


def _hold(path, ready, release):
    with locked(path):
        ready.set()
        release.wait(10)


def test_a_second_holder_waits_and_times_out_with_one_line(tmp_path):
    target = tmp_path / "results.json"
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(target, ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        begin = time.monotonic()
        with pytest.raises(UserError, match=r"results.json: another process has held its lock"):
            with locked(target, timeout_s=0.3):
                pass
        assert time.monotonic() - begin >= 0.3
    finally:
        release.set()
        holder.join(10)
    with locked(target, timeout_s=5):  # free again once the holder is gone
        pass
    assert list(tmp_path.iterdir()) == []  # no lock file left beside the results


def test_a_killed_holder_releases_the_lock(tmp_path):
    target = tmp_path / "results.json"
    context = multiprocessing.get_context("fork")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(target, ready, release))
    holder.start()
    assert ready.wait(10)
    holder.kill()
    holder.join(10)
    with locked(target, timeout_s=5):
        pass
