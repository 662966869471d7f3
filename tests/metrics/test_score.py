"""slimrlfn.metrics.score: the NTIRE 2024 score formula."""
from __future__ import annotations

import math

import pytest

from slimrlfn.metrics.score import ntire_score


def test_ntire_score_formula():
    assert ntire_score(10.0, 19.675, 0.3172, 10.0, 19.675, 0.3172) == pytest.approx(math.exp(2))
    value = ntire_score(5.0, 9.8375, 0.1586, 10.0, 19.675, 0.3172)
    assert value == pytest.approx(math.e)  # half of RLFN everywhere: exp(1)
    assert ntire_score(6.0, 10.0, 0.2, 10.0, 20.0, 0.4) == pytest.approx(
        0.7 * math.exp(1.2) + 0.15 * math.exp(1.0) + 0.15 * math.exp(1.0))
