"""slimrlfn.metrics.stats: summaries, bootstrap intervals, ratios, first-image share and warm-up length on known data."""
from __future__ import annotations

import numpy as np
import pytest

from slimrlfn.metrics.stats import bootstrap_ci, first_share, ratio_ci, summarize, warmup_length


def test_summarize_known_sequence():
    s = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (s["n"], s["mean"], s["median"], s["q1"], s["q3"], s["iqr"]) == (5, 3.0, 3.0, 2.0, 4.0, 2.0)
    assert s["std"] == pytest.approx(np.std([1, 2, 3, 4, 5], ddof=1))
    assert s["ci_median"][0] <= 3.0 <= s["ci_median"][1] and s["ci_mean"][0] <= 3.0 <= s["ci_mean"][1]
    assert 1.0 <= s["ci_mean"][0] < s["ci_mean"][1] <= 5.0
    assert summarize([1.0, 2.0, 3.0, 4.0, 5.0]) == s, "fixed seed: the same intervals every time"


def test_bootstrap_edge_cases():
    assert bootstrap_ci([7.0]) == (7.0, 7.0)
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)
    with pytest.raises(ValueError):
        summarize([])


def test_ratio_and_first_share():
    assert ratio_ci([2.0, 2.0, 2.0], [1.0, 1.0]) == {"ratio": 2.0, "ci": [2.0, 2.0], "n": [3, 2]}
    r = ratio_ci([10.0, 12.0, 11.0], [5.0, 6.0, 5.5])
    assert r["ratio"] == pytest.approx(2.0) and r["ci"][0] <= 2.0 <= r["ci"][1]
    assert first_share([3.0, 1.0, 1.0, 1.0]) == 0.5
    assert first_share([]) is None


def test_warmup_length_on_synthetic_traces():
    cold = [50.0, 20.0, 12.0, 10.2, 10.0, 9.9, 10.1, 10.0, 10.0, 9.95]
    w = warmup_length(cold)
    assert w["steady_median"] == pytest.approx(10.0) and w["length"] == 3 and w["settled"]
    assert warmup_length([10.0] * 8)["length"] == 0
    spike = [30.0] + [10.0] * 8 + [30.0]
    assert warmup_length(spike)["length"] == 10 and not warmup_length(spike)["settled"]
    assert warmup_length(spike, window=3)["length"] == 2  # running medians 30, 20, then 10 ...
    assert warmup_length([10.0, 10.4, 10.0, 10.0], tolerance=0.05)["length"] == 0


def test_paired_ratio_of_two_models_10_percent_apart_with_20_percent_noise_covers_the_true_ratio():
    """Model B takes 1.1x model A; each sample has 20 % independent noise and both share a drifting load."""
    import numpy as np

    from slimrlfn.metrics.stats import paired_ratio

    covered, widths = 0, []
    for trial in range(100):
        rng = np.random.default_rng(trial)
        load = rng.uniform(1.0, 2.0, size=40)  # shared by the two members of a pair
        a = 10.0 * load * rng.lognormal(0.0, 0.2, size=40)
        b = 11.0 * load * rng.lognormal(0.0, 0.2, size=40)
        result = paired_ratio(b, a, n_boot=500, seed=trial)
        covered += result["ci"][0] <= 1.1 <= result["ci"][1]
        widths.append(result["half_width"])
        assert result["pairs"] == 40 and result["ci"][0] <= result["ratio"] <= result["ci"][1]
    assert covered >= 88, f"the 95% interval covered the true ratio in {covered} of 100 trials"
    assert 0.02 < float(np.median(widths)) < 0.2


def test_paired_ratio_cancels_shared_load_and_refuses_unpaired_samples():
    import pytest

    from slimrlfn.metrics.stats import intervals_overlap, paired_ratio

    load = [1.0, 3.0, 1.5, 2.5, 1.2, 2.8]
    exact = paired_ratio([2.0 * x for x in load], load)
    assert exact["ratio"] == 2.0 and exact["ci"] == [2.0, 2.0] and exact["half_width"] == 0.0
    with pytest.raises(ValueError, match="needs pairs"):
        paired_ratio([1.0, 2.0], [1.0])
    assert intervals_overlap([1.0, 2.0], [2.0, 3.0]) and not intervals_overlap([1.0, 1.9], [2.0, 3.0])


def _normal_sample(n: int, mean: float, sd: float) -> np.ndarray:
    """n evenly spaced quantiles of a normal distribution: a symmetric sample with the given mean."""
    from scipy.stats import norm

    return mean + sd * norm.ppf((np.arange(n) + 0.5) / n)


def test_bootstrap_ci_of_a_mean_spans_1_96_standard_errors_on_each_side():
    """Catches a 95 % interval computed as a 90 % one (by default or by not halving the tails) and a lopsided one."""
    x = _normal_sample(100, 10.0, 1.0)
    se = float(x.std()) / np.sqrt(x.size)  # the bootstrap's standard error of the mean
    lo, hi = bootstrap_ci(x, np.mean, n_boot=20000)  # the default confidence: 95 %
    # percentiles 2.5 and 97.5: 1.96 standard errors each side (a 90 % interval: 1.645; up to the 95th: 1.645 above)
    assert 1.85 < (10.0 - lo) / se < 2.1 and 1.85 < (hi - 10.0) / se < 2.1
    assert summarize(x)["ci_mean"] == list(bootstrap_ci(x, np.mean)), "summarize's CIs are the default 95 % ones"
    lo90, hi90 = bootstrap_ci(x, np.mean, confidence=0.90, n_boot=20000)
    assert 1.55 < (10.0 - lo90) / se < 1.75 and 1.55 < (hi90 - 10.0) / se < 1.75


def test_ratio_ci_resamples_the_denominator_too_and_is_two_sided():
    """Catches ratio_ci resampling only the numerator (the denominator's spread left out) and a lopsided interval."""
    b = _normal_sample(100, 5.0, 0.5)
    r = ratio_ci([10.0] * 20, b, n_boot=20000)  # all the noise is in the denominator
    se = 2.0 * float(b.std()) / np.sqrt(b.size) / 5.0  # of 10 / mean(b), to first order
    assert r["ratio"] == pytest.approx(2.0)
    assert 1.85 < (2.0 - r["ci"][0]) / se < 2.1 and 1.85 < (r["ci"][1] - 2.0) / se < 2.1
    x = _normal_sample(100, 10.0, 1.0)
    r = ratio_ci(x, [5.0] * 20, n_boot=20000)  # all the noise is in the numerator
    se = float(x.std()) / np.sqrt(x.size) / 5.0
    assert 1.85 < (2.0 - r["ci"][0]) / se < 2.1 and 1.85 < (r["ci"][1] - 2.0) / se < 2.1
