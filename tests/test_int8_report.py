"""bench/int8_report.py: the speed-up is paired over the rounds and carries its interval; bad arguments are one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture(scope="module")
def int8_report():
    sys.path.insert(0, str(BENCH))
    try:
        import int8_report
    finally:
        sys.path.remove(str(BENCH))
    return int8_report


def test_the_speedup_is_the_median_of_the_paired_ratios_with_an_interval(int8_report):
    fp32 = [100.0, 200.0, 110.0, 105.0, 300.0]  # drift moves both paths of a round together
    int8 = [50.0, 100.0, 55.0, 70.0, 150.0]
    out = int8_report.speedup({"openvino": {"ms": fp32}, "openvino_int8": {"ms": int8}})
    assert out["speedup"] == pytest.approx(2.0) and out["pairs"] == 5
    assert out["ci"][0] <= 2.0 <= out["ci"][1] and out["ci"][0] >= 1.5 - 1e-9
    assert int8_report._speedup_cell(out).startswith("2.00x [")


@pytest.mark.shared
def test_int8_report_refuses_a_wrong_number_of_int8_models_in_one_line(set5_dir, tmp_path):
    done = subprocess.run([sys.executable, str(BENCH / "int8_report.py"), "--models", "slimrlfn", "rlfn",
                           "--int8_models", "-", "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == ["int8_report.py: error: --int8_models: expected 2 values (one per "
                                                "model), got 1"]
