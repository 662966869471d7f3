"""slimrlfn.figures.architecture and quality: widths, counts and PSNR figures."""
from __future__ import annotations

import pytest

from slimrlfn.arch.zoo import ZOO
from slimrlfn.figures.architecture import channel_widths_figure, counts_figure
from slimrlfn.figures.quality import psnr_figure
from tests.helpers import assert_figure_files


def test_channel_widths_figure(tmp_path):
    configs = {entry.label: entry.config for entry in ZOO.values()}
    paths = channel_widths_figure(configs, tmp_path)
    assert_figure_files(paths, tmp_path, "channel_widths")
    with pytest.raises(ValueError):
        channel_widths_figure({}, tmp_path)


ROWS = [
    {"model": "RLFN", "input_shape": [1, 3, 256, 256], "num_parameters": 0.317218, "flops": 19.67485952,
     "macs_ptflops_pytorch": 19.780578496, "macs_ptflops_aten": 19.738127488, "activations": 80.045184,
     "num_conv": 39},
    {"model": "SlimRLFN", "input_shape": [1, 3, 256, 256], "num_parameters": 0.207774, "flops": 11.991174144,
     "macs_ptflops_pytorch": 12.083299104, "macs_ptflops_aten": 12.040069824, "activations": 74.061504,
     "num_conv": 51},
]


def test_counts_figure(tmp_path):
    assert_figure_files(counts_figure(ROWS, tmp_path), tmp_path, "model_counts")
    # rows without the aten MACs (as evaluate's results entries) still plot
    rows = [{k: v for k, v in row.items() if k != "macs_ptflops_aten"} for row in ROWS]
    assert_figure_files(counts_figure(rows, tmp_path, stem="partial"), tmp_path, "partial")
    with pytest.raises(ValueError, match="flops"):
        counts_figure([{"model": "x", "num_parameters": 1, "activations": 1}], tmp_path)
    with pytest.raises(ValueError):
        counts_figure([], tmp_path)


def test_psnr_figure(tmp_path):
    psnr = {"A": {"x": 28.0, "y": 31.0}, "B": {"x": 27.5, "y": 30.9}}
    assert_figure_files(psnr_figure(psnr, tmp_path, title="t"), tmp_path, "psnr_per_image")
    with pytest.raises(ValueError):
        psnr_figure({}, tmp_path)
