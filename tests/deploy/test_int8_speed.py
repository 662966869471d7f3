"""slimrlfn.deploy.int8_speed: the speed-up is paired over the rounds and carries its interval."""
from __future__ import annotations

import pytest

from slimrlfn.deploy.int8_speed import speedup, speedup_cell


def test_the_speedup_is_the_median_of_the_paired_ratios_with_an_interval():
    fp32 = [100.0, 200.0, 110.0, 105.0, 300.0]  # drift moves both paths of a round together
    int8 = [50.0, 100.0, 55.0, 70.0, 150.0]
    out = speedup({"openvino": {"ms": fp32}, "openvino_int8": {"ms": int8}})
    assert out["speedup"] == pytest.approx(2.0) and out["pairs"] == 5
    assert out["ci"][0] <= 2.0 <= out["ci"][1] and out["ci"][0] >= 1.5 - 1e-9
    assert speedup_cell(out).startswith("2.00x [")
