"""slimrlfn.figures.timing: the study's figures as PNG + PDF with the device on them."""
from __future__ import annotations

from tests.helpers import fake_timing_study


def test_figures_write_png_and_pdf_with_the_device(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from slimrlfn.figures.timing import plot_cold_warm, plot_first_image_share, plot_latency_traces

    separate = fake_timing_study("separate", {"A": [10.0, 11.0, 12.0], "B": [20.0, 21.0, 22.0]})
    consecutive = fake_timing_study("consecutive", {"A": [9.0, 5.0, 5.0], "B": [15.0, 10.0, 10.0]})
    for i, r in enumerate(separate["records"] + consecutive["records"]):
        r["samples"][1]["ms"] = 1.0 + i  # log axis: positive times
    for fn in (plot_latency_traces, plot_cold_warm, plot_first_image_share):
        stem = tmp_path / fn.__name__
        fig = fn(separate, consecutive, stem)
        assert stem.with_suffix(".png").stat().st_size > 0 and stem.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
        texts = " ".join(t.get_text() for t in fig.texts)
        assert "Test CPU" in texts and "not a GPU measurement" in texts
        assert all(ax.get_ylabel().endswith(("[ms]", "[ms] (log)", "[%]")) for ax in fig.axes if ax.get_ylabel())
        plt.close(fig)
