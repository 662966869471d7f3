"""bench/timing/eval_overhead.py runs against the package as it is (it broke once when evaluate's counts moved to the
cache)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "timing" / "eval_overhead.py"


@pytest.mark.shared
def test_eval_overhead_runs_on_small_pairs_and_prints_its_verdict(official_zoo):
    done = subprocess.run([sys.executable, str(SCRIPT), "--images", "1", "--hr_size", "96", "128",
                           "--models", "slimrlfn_prune"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    row = next(line for line in done.stdout.splitlines() if line.startswith("SlimRLFN-prune"))
    eval_s, bare_s, ratio, counts_s, setup_s = (float(word) for word in row.split()[1:6])
    assert eval_s > 0 and bare_s > 0 and counts_s >= 0 and setup_s >= 0
    assert row.split()[-1] == ("ok" if ratio <= 1.15 else "MISSED")
    assert done.stdout.splitlines()[-1].startswith(f"worst ratio {ratio:.3f} (target <= 1.15)")


def test_eval_overhead_refuses_tiny_pairs_in_one_line():
    done = subprocess.run([sys.executable, str(SCRIPT), "--hr_size", "8", "8"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("--hr_size: expected at least 64 64")
