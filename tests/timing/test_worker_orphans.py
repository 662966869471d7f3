"""A timing worker dies with its parent: ``slimrlfn time`` SIGKILLed in the middle of a run leaves no worker behind."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from tests.helpers import outlives, process_alive


def _children(pid: int):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


@pytest.mark.skipif(not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"),
                    reason="needs /proc/PID/task/PID/children to find the worker")
def test_a_killed_time_command_leaves_no_worker(tmp_path):
    torch.manual_seed(0)
    checkpoint = save_checkpoint(build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}),
                                 tmp_path / "tiny.pth")
    parent = subprocess.Popen([sys.executable, "-m", "slimrlfn", "time", "--models", str(checkpoint), "--scenario",
                               "consecutive", "--protocol", "micro", "--sizes", "64x64", "--iters", "1000000",
                               "--runs", "1", "--device", "cpu", "--out", str(tmp_path / "t.json")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 120
        while worker is None and time.monotonic() < deadline and parent.poll() is None:
            found = _children(parent.pid)
            worker = found[0] if found else None
            time.sleep(0.1)
        assert worker is not None, "the worker never started"
        time.sleep(3)  # it has imported torch and is timing
        assert process_alive(worker)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert not outlives(worker), "the worker outlived its killed parent"
