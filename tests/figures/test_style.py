"""slimrlfn.figures.style: the one save_figure (PNG + PDF, atomic, pyplot figures closed)."""
from __future__ import annotations

from matplotlib.figure import Figure

from slimrlfn.figures.style import save_figure
from tests.helpers import assert_figure_files


def test_save_figure_writes_png_and_pdf_atomically(tmp_path):
    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.plot([0, 1, 2], [2, 0, 1])
    out = tmp_path / "new" / "dir"
    paths = save_figure(fig, out, "line")
    assert_figure_files(paths, out, "line")
    before = paths[0].stat().st_size
    assert save_figure(fig, out, "line") == paths  # overwrites in place
    assert paths[0].stat().st_size == before


def test_save_figure_closes_pyplot_figures(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    number = fig.number
    save_figure(fig, tmp_path, "pyplot")
    assert number not in plt.get_fignums()
