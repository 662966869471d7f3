"""bench/deploy/int8_report.py as a process: bad arguments are one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "deploy" / "int8_report.py"


@pytest.mark.shared
def test_int8_report_refuses_a_wrong_number_of_int8_models_in_one_line(set5_dir, tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--models", "slimrlfn", "rlfn",
                           "--int8_models", "-", "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == ["int8_report.py: error: --int8_models: expected 2 values (one per "
                                                "model), got 1"]
