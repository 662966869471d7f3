"""slimrlfn.prune.faster: the scopes and steps a candidate shape needs, the verdict, the report table."""
from __future__ import annotations

import pytest

from slimrlfn.prune.faster import CANDIDATES, markdown, scope_of, steps_needed, verdicts


def test_scopes_and_steps_follow_the_shape():
    assert scope_of(CANDIDATES["i24"]) == ["inner"]
    assert scope_of(CANDIDATES["i24e8"]) == ["inner", "esa"]
    assert scope_of(CANDIDATES["f24e8"]) == ["inner", "esa", "feature"]
    assert steps_needed(CANDIDATES["i24e8"], 4) == 2  # 30 -> 24 inner and 16 -> 8 ESA, 4 a step
    assert steps_needed(CANDIDATES["i16"], 4) == 4
    with pytest.raises(ValueError):
        steps_needed(CANDIDATES["f32"], 4)  # wider than SlimRLFN: pruning cannot reach it


def _timing(ratios):
    rows = []
    for label, (r256, r339) in ratios.items():
        for size, ratio in (((256, 256), r256), ((339, 510), r339)):
            rows.append({"label": label, "size": list(size), "median_ms": 100 * ratio, "resolved": "channels_last",
                         "times_ms": [1.0, 1.0], "vs_reference": {"ratio": ratio, "ci": [ratio - 0.01, ratio + 0.01]}})
    return {"threads": 2, "load_average": [0.5, 0.6], "peak": {"gflops": 100.0}, "rows": rows}


def test_a_candidate_meets_only_when_speed_psnr_and_budget_all_do():
    trained = {"fast_sharp": {"finetune_minutes": 40.0}, "fast_blurry": {"finetune_minutes": 40.0},
               "slow_sharp": {"finetune_minutes": 40.0}, "overtrained": {"finetune_minutes": 61.0},
               "refit_over": {"finetune_minutes": 58.0, "refit_minutes": 2.5},
               "refit_within": {"finetune_minutes": 57.0, "refit_minutes": 2.5},
               "two_threads": {"finetune_minutes": 30.0, "refit_minutes": 1.0, "threads": 2}}
    sharp = {"Set5": 30.05, "Set14": 26.78}
    scores = {"fast_sharp": {"Set5": 30.03, "Set14": 26.77}, "fast_blurry": {"Set5": 30.03, "Set14": 26.70},
              "slow_sharp": sharp, "overtrained": sharp, "refit_over": sharp, "refit_within": sharp, "two_threads": sharp}
    timed = _timing({"fast_sharp": (0.80, 0.84), "fast_blurry": (0.70, 0.70), "slow_sharp": (0.80, 0.86),
                     "overtrained": (0.8, 0.8), "refit_over": (0.8, 0.8), "refit_within": (0.8, 0.8),
                     "two_threads": (0.8, 0.8),
                     "SlimRLFN-prune": (1.0, 1.0)})
    verdict = verdicts(trained, scores, timed)
    assert {name: v["met"] for name, v in verdict.items()} == {
        "fast_sharp": True, "fast_blurry": False, "slow_sharp": False, "overtrained": False,
        "refit_over": False, "refit_within": True,  # the refit's minutes count in the budget
        "two_threads": False}  # 31 wall minutes on 2 threads are 62 CPU-minutes
    assert not verdict["slow_sharp"]["speed_met"] and not verdict["fast_blurry"]["psnr_met"]
    assert not verdict["overtrained"]["finetune_met"] and not verdict["refit_over"]["finetune_met"]


def test_the_report_table_has_a_row_per_model_with_its_verdict():
    timed = _timing({"SlimRLFN": (1.01, 1.0), "SlimRLFN-prune": (1.0, 1.0), "i24e8": (0.8, 0.9)})
    scores = {"SlimRLFN": {"Set5": 30.068, "Set14": 26.78}, "SlimRLFN-prune": {"Set5": 30.046, "Set14": 26.771},
              "i24e8": {"Set5": 30.03, "Set14": 26.77}}
    trained = {"i24e8": {"finetune_minutes": 40.0, "refit_minutes": 2.25, "psnr_cut": [25.1],
                         "psnr_before_finetune": [29.3], "psnr_after_finetune": [29.9]}}
    report = {"device": {"device_name": "Test CPU"}, "timing": timed, "quality": scores, "trained": trained,
              "counts": {"SlimRLFN": {"params_m": 0.2078, "flops_g": 11.991}, "i24e8": {"params_m": 0.147, "flops_g": 9.185}},
              "verdicts": verdicts(trained, scores, timed)}
    table = markdown(report)
    assert "| i24e8 | 0.1470 | 9.185 | 80.0 / 0.800 [0.790, 0.810] | 90.0 / 0.900 [0.890, 0.910] | 30.030 | 26.770 | 40.0 + 2.2 " \
           "(x 1 = 42.2) | not met: speed |" in table
    assert "- i24e8: 25.100 -> 29.300 -> 29.900 dB" in table
    assert "| SlimRLFN-prune | nan | nan |" in table and table.count("| official |") == 2
