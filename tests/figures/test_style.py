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


def test_a_quick_mode_run_stamps_every_saved_figure_once_and_full_mode_clears_it(tmp_path):
    """A box plot of 2-3 points read as a result: in quick mode every figure saved says "quick mode" under it."""
    import matplotlib.pyplot as plt

    from slimrlfn.notebook import QUICK_NOTE, quick_mode

    try:
        assert quick_mode(True, show=False) == QUICK_NOTE
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        save_figure(fig, tmp_path, "a", close=False)
        save_figure(fig, tmp_path, "b", close=False)
        assert [t.get_text() for t in fig.texts] == [QUICK_NOTE]
        assert quick_mode(False, show=False) is None
        fig2, _ = plt.subplots()
        save_figure(fig2, tmp_path, "c")
        assert not fig2.texts
    finally:
        quick_mode(False, show=False)
        plt.close("all")
