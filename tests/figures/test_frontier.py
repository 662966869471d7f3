"""slimrlfn.figures.frontier: the frontier figure of a prune-faster report (hand-made, no model runs)."""
from __future__ import annotations

from slimrlfn.figures.frontier import frontier_figure
from slimrlfn.prune.faster import verdicts


def _timing(ratios):
    rows = []
    for label, (r256, r339) in ratios.items():
        for size, ratio in (((256, 256), r256), ((339, 510), r339)):
            rows.append({"label": label, "size": list(size), "median_ms": 100 * ratio, "resolved": "channels_last",
                         "times_ms": [1.0, 1.0], "vs_reference": {"ratio": ratio, "ci": [ratio - 0.01, ratio + 0.01]}})
    return {"threads": 2, "load_average": [0.5, 0.6], "peak": {"gflops": 100.0}, "rows": rows}


def test_the_frontier_figure_of_a_report_is_saved(tmp_path):
    timed = _timing({"SlimRLFN": (1.01, 1.0), "SlimRLFN-prune": (1.0, 1.0), "i24e8": (0.8, 0.9)})
    scores = {"SlimRLFN": {"Set5": 30.068, "Set14": 26.78}, "SlimRLFN-prune": {"Set5": 30.046, "Set14": 26.771},
              "i24e8": {"Set5": 30.03, "Set14": 26.77}}
    trained = {"i24e8": {"finetune_minutes": 40.0, "refit_minutes": 2.25, "psnr_cut": [25.1],
                         "psnr_before_finetune": [29.3], "psnr_after_finetune": [29.9]}}
    report = {"device": {"device_name": "Test CPU"}, "timing": timed, "quality": scores, "trained": trained,
              "counts": {"SlimRLFN": {"params_m": 0.2078, "flops_g": 11.991}, "i24e8": {"params_m": 0.147, "flops_g": 9.185}},
              "verdicts": verdicts(trained, scores, timed)}
    frontier_figure(report, tmp_path / "frontier.png")
    assert (tmp_path / "frontier.png").stat().st_size > 1000
