"""The timing study's coefficient of variation: the sample standard deviation over the *mean*, on known sequences
whose median differs from their mean (slimrlfn.metrics.stats.summarize and slimrlfn.timing.report's cold/warm
summary, which notebook 04 writes)."""
from __future__ import annotations

import math

import pytest

from slimrlfn.metrics.stats import summarize
from slimrlfn.timing.report import cold_warm_summary
from tests.helpers import fake_timing_study


@pytest.mark.parametrize("values, mean, median, sd", [
    ([10.0, 11.0, 15.0], 12.0, 11.0, math.sqrt(7.0)),  # ((-2)^2 + (-1)^2 + 3^2) / 2 = 7
    ([1.0, 1.0, 1.0, 9.0], 3.0, 1.0, 4.0),  # (3 * 4 + 36) / 3 = 16: one slow run, the median blind to it
    ([20.0, 20.0], 20.0, 20.0, 0.0),
])
def test_cv_is_the_sample_sd_over_the_mean(values, mean, median, sd):
    s = summarize(values)
    assert (s["mean"], s["median"]) == (pytest.approx(mean), pytest.approx(median))
    assert s["std"] == pytest.approx(sd, abs=1e-12)
    assert s["cv"] == pytest.approx(sd / mean, abs=1e-12)


def test_cv_of_one_value_and_of_a_zero_mean():
    assert summarize([7.0])["cv"] == 0.0
    assert math.isnan(summarize([0.0, 0.0])["cv"])


def test_cold_and_warm_cv_of_the_timing_summary():
    """Cold: the 3 fresh-process runs; warm: runs 2-4 of the consecutive ones (run 1 is the cold start)."""
    separate = fake_timing_study("separate", {"A": [10.0, 11.0, 15.0, 12.0]})
    consecutive = fake_timing_study("consecutive", {"A": [30.0, 8.0, 8.0, 11.0]})
    entry = cold_warm_summary(separate, consecutive)["a"]
    assert entry["warm_runs"] == [8.0, 8.0, 11.0]
    cold, warm = entry["cold"], entry["warm"]
    assert cold["mean"] == pytest.approx(12.0) and cold["median"] == pytest.approx(11.5)
    assert cold["cv"] == pytest.approx(math.sqrt(14.0 / 3.0) / 12.0, abs=1e-12)  # sum of squares 14, n - 1 = 3
    assert warm["mean"] == pytest.approx(9.0) and warm["median"] == pytest.approx(8.0)
    assert warm["cv"] == pytest.approx(math.sqrt(3.0) / 9.0, abs=1e-12)  # (1 + 1 + 4) / 2 = 3
