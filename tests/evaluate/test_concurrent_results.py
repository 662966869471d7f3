"""Evaluations that merge into one save_dir at once lose no entry (results.merge_entry holds the folder's lock).

The first test makes the race certain: 8 processes start their merge at one instant (each has imported and waits
for a go-file) and each holds what it read for
0.3 s before writing, so without the lock all but one entry would be lost (the control shows it). The second runs 8
real ``slimrlfn eval`` processes into one ``--save_dir``.
"""
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

_MERGE = textwrap.dedent('''
    import sys, time
    from slimrlfn.core import locks
    from slimrlfn.evaluate import results

    import os
    save_dir, name, gate, use_lock = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "lock"
    read = results.load_results

    def slow_read(folder):
        found = read(folder)
        time.sleep(0.3)  # a wide window between the read and the write
        return found

    results.load_results = slow_read
    if not use_lock:
        import contextlib
        results.locked = lambda path: contextlib.nullcontext()
    open(os.path.join(gate, name + ".ready"), "w").close()
    while not os.path.exists(os.path.join(gate, "go")):  # every process has imported and waits here
        time.sleep(0.002)
    results.merge_entry(save_dir, name, {"valid_ave_psnr": 30.0, "valid_ave_runtime": 1.0, "num_parameters": 0.1,
                                         "flops": 1.0, "activations": 1.0, "valid_memory": 1.0, "num_conv": 1})
''')


def _merge_at_once(save_dir, processes: int, use_lock: bool) -> dict:
    gate = Path(tempfile.mkdtemp(prefix="merge-gate-"))
    procs = [subprocess.Popen([sys.executable, "-c", _MERGE, str(save_dir), f"model{i}", str(gate),
                               "lock" if use_lock else "none"]) for i in range(processes)]
    deadline = time.monotonic() + 120
    while len(list(gate.glob("*.ready"))) < processes and time.monotonic() < deadline:
        time.sleep(0.01)
    (gate / "go").touch()  # all start their merge at one instant
    assert [p.wait(120) for p in procs] == [0] * processes
    shutil.rmtree(gate)
    return json.loads((save_dir / "results.json").read_text())


def test_eight_processes_merging_at_once_keep_every_entry(tmp_path):
    results = _merge_at_once(tmp_path / "with_lock", 8, use_lock=True)
    assert sorted(results) == sorted(f"model{i}" for i in range(8))
    table = (tmp_path / "with_lock" / "results.txt").read_text().splitlines()
    assert len(table) == 9
    assert sorted(p.name for p in (tmp_path / "with_lock").iterdir()) == ["results.json", "results.txt"]


def test_without_the_lock_entries_are_lost():
    """The control: the same race without the lock loses entries, so the test above can fail."""
    with tempfile.TemporaryDirectory() as folder:
        results = _merge_at_once(Path(folder), 4, use_lock=False)
    assert len(results) < 4


@pytest.mark.parametrize("processes", [8])
def test_eight_real_evaluations_into_one_save_dir(tmp_path, tiny_pairs, processes):
    import torch

    from slimrlfn.arch.checkpoints import save_checkpoint
    from slimrlfn.arch.config import build_model

    torch.manual_seed(0)
    checkpoint = save_checkpoint(build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}),
                                 tmp_path / "tiny.pth")
    save = tmp_path / "results"
    procs = [subprocess.Popen([sys.executable, "-m", "slimrlfn", "eval", "--checkpoint", str(checkpoint), "--data_dir",
                               str(tiny_pairs), "--save_dir", str(save), "--name", f"run{i}", "--backend", "eager",
                               "--device", "cpu"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for i in range(processes)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * processes, errors
    results = json.loads((save / "results.json").read_text())
    assert sorted(results) == sorted(f"run{i}" for i in range(processes))
    assert all((save / f"run{i}" / "valid" / "a.png").is_file() for i in range(processes))
    assert not [p for p in save.iterdir() if p.name.startswith(".")]
