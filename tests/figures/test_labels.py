"""Labels placed by slimrlfn.figures.style.place_labels do not overlap each other nor cover another point, even
for a crowded cluster (06's PSNR-runtime scatter had five labels printed over each other)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from slimrlfn.figures.style import place_labels  # noqa: E402


def _overlap(a, b):
    return not (a.x1 <= b.x0 or a.x0 >= b.x1 or a.y1 <= b.y0 or a.y0 >= b.y1)


def test_crowded_labels_do_not_overlap():
    xs = [10.0, 10.2, 10.4, 10.1, 10.3, 30.0, 30.5, 20.0]
    ys = [30.0, 30.02, 30.01, 29.98, 30.03, 29.5, 29.52, 29.8]
    names = ["SPAN", "SPANtiny", "RCN", "RDEN", "PFDN", "LightRLFN", "DSCF_Fused", "baseline"]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    ax.scatter(xs, ys)
    ax.margins(0.12)
    fig.canvas.draw()
    labels = place_labels(ax, xs, ys, names)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [label.get_window_extent(renderer) for label in labels]
    assert [label.get_text() for label in labels] == names
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not _overlap(a, b), (a, b)
    plt.close(fig)


def test_a_label_with_nowhere_clear_is_tied_to_its_point():
    fig, ax = plt.subplots(figsize=(1.5, 1.2))
    xs, ys = [0.0] * 12, [0.0] * 12
    ax.scatter(xs, ys)
    fig.canvas.draw()
    labels = place_labels(ax, xs, ys, [f"entry number {i}" for i in range(12)])
    assert len(labels) == 12 and any(label.arrow_patch is not None for label in labels)
    plt.close(fig)
