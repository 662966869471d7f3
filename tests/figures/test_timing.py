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


def _points(ax, x: float):
    """The y values of the marker-only lines plotted at about ``x`` (a box's jittered points)."""
    values = []
    for line in ax.lines:
        xs, ys = line.get_xdata(), line.get_ydata()
        if line.get_linestyle() == "None" and len(xs) and all(abs(float(v) - x) < 0.1 for v in xs):
            values += [float(v) for v in ys]
    return sorted(values)


def test_cold_warm_figure_plots_the_cold_runs_and_warm_runs_2_to_n():
    """The data on the axes: per model, cold = every fresh-process run, warm = consecutive runs 2..N (not run 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from slimrlfn.figures.timing import plot_cold_warm

    separate = fake_timing_study("separate", {"A": [10.0, 11.0, 12.0], "B": [20.0, 21.0, 23.0]})
    consecutive = fake_timing_study("consecutive", {"A": [9.0, 5.0, 6.0], "B": [15.0, 10.0, 11.0]})
    fig = plot_cold_warm(separate, consecutive)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B"]
    assert _points(ax, -0.2) == [10.0, 11.0, 12.0] and _points(ax, 0.2) == [5.0, 6.0]
    assert _points(ax, 0.8) == [20.0, 21.0, 23.0] and _points(ax, 1.2) == [10.0, 11.0]
    assert ax.get_ylabel().endswith("[ms]")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["cold: 3 fresh processes", "warm: consecutive runs 2-3"]
    plt.close(fig)


def test_first_image_share_figure_plots_each_runs_share():
    """Bars at the mean share [%] of each group, points at each run's share (first sample / run total)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from slimrlfn.figures.timing import plot_first_image_share

    separate = fake_timing_study("separate", {"A": [10.0, 11.0]})
    consecutive = fake_timing_study("consecutive", {"A": [9.0, 5.0]})
    for r in separate["records"] + consecutive["records"]:
        r["samples"][1]["ms"] = r["samples"][0]["ms"] / 3  # the first image is 75 % of each run's total
    separate["records"][1]["samples"][1]["ms"] = separate["records"][1]["samples"][0]["ms"]  # this one: 50 %
    fig = plot_first_image_share(separate, consecutive)
    (ax,) = fig.axes
    bars = sorted((round(p.get_x() + p.get_width() / 2, 2), round(p.get_height(), 6)) for p in ax.patches)
    assert bars == [(-0.26, 62.5), (0.0, 75.0), (0.26, 75.0)]  # fresh processes (mean of 75 and 50), run 1, runs 2-N
    assert _points(ax, -0.26) == [50.0, 75.0]
    assert ax.get_ylabel().endswith("[%]")
    plt.close(fig)
