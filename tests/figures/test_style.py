"""slimrlfn.figures.style: the one save_figure (PNG + PDF, atomic, pyplot figures closed)."""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from slimrlfn.figures.style import save_figure


def assert_figure_files(paths, out_dir: Path, stem: str) -> None:
    """PNG and PDF with the same stem exist, the PNG is not blank, the PDF is a PDF; no temp files left."""
    import matplotlib.image as mpimg

    assert [p.name for p in paths] == [f"{stem}.png", f"{stem}.pdf"]
    png, pdf = paths
    pixels = mpimg.imread(png)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    assert float(pixels[..., :3].std()) > 0.01
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 1000
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".tmp")]


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
