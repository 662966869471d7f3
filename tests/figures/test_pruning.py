"""Figures of the pruning explorer, from hand-made step records (no model runs)."""
from __future__ import annotations

import matplotlib.image as mpimg
import pytest

from slimrlfn.figures.pruning import (
    ntire_score_figure,
    trajectory_figure,
    width_heatmap_figure,
)


def record(step, width, psnr):
    widths = {"b1.c1_r": width, "b1.c2_r": 30, "features": 30}
    return {"step": step, "widths": widths, "removed": {"b1.c1_r": 30 - width} if step else {},
            "psnr_before": psnr - 0.2, "psnr_after": psnr, "params_m": 0.2 - 0.001 * step,
            "flops_g": 12.0 - 0.3 * step, "latency_ms": 20.0 - step, "rlfn_latency_ms": 25.0,
            "latency_ratio": (20.0 - step) / 25.0, "ntire_score": 5.0 - 0.1 * step, "finetune": {"iterations": 8},
            "latency": {"device": "cpu", "threads": 2, "input_shape": [1, 3, 64, 64]}}


RUNS = {"l1": [record(0, 30, 30.0), record(1, 28, 29.9)], "taylor": [record(0, 30, 30.0), record(1, 27, 29.95)]}
REFERENCES = {"SlimRLFN-prune": {**record(0, 28, 30.0), "psnr": 30.046}}


@pytest.mark.parametrize("draw, stem", [
    (lambda out: trajectory_figure(RUNS, out, "t", references=REFERENCES), "t"),
    (lambda out: width_heatmap_figure(RUNS, out, "w", references=REFERENCES), "w"),
    (lambda out: ntire_score_figure(RUNS, out, "n", references=REFERENCES), "n"),
])
def test_figures_are_saved_as_png_and_pdf(tmp_path, draw, stem):
    paths = draw(tmp_path)
    assert [p.name for p in paths] == [f"{stem}.png", f"{stem}.pdf"]
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    assert float(mpimg.imread(paths[0])[..., :3].std()) > 0.01


def test_figures_need_records(tmp_path):
    with pytest.raises(ValueError):
        trajectory_figure({}, tmp_path)
