"""slimrlfn.figures.official: the bump chart, the first-image chart and the log's runs, drawn from the document."""
from __future__ import annotations

from slimrlfn.figures.official import (OFFICIAL_WARM_MARK, first_image_chart, log_runs_chart, official_bump_chart,
                                       write_official_figures)
from slimrlfn.official.analysis import analyse_official
from tests.helpers import assert_figure_files
from tests.official.helpers import entry, write_log, write_results


def _texts(fig):
    return " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def _doc(tmp_path, warm=None):
    path = write_results(tmp_path, {"00_Base": entry([7.74] * 4, [7.74] * 4, 9.83, 0.151),
                                    "01_Fast": entry([7.0] * 4, [7.0] * 4, 9.0, 0.14),
                                    "02_Cold": entry([14.0, 7.0, 7.0, 7.0], [7.0] * 4, 5.0, 0.1)})
    log = write_log(tmp_path / "NTIRE2026-EfficientSR.log", [("00_Base", 12.0, 10.0, 2), ("00_Base", 10.0, 10.0, 2)])
    doc = analyse_official(results=path, log=log, year="2026", load=False)
    for e in doc["entries"]:
        e["load_forwards"] = {"count": (warm or {}).get(e["key"]), "why": None if warm else "not loaded"}
    return doc


def test_every_figure_names_where_the_organisers_measured_and_the_entries(tmp_path):
    import matplotlib.pyplot as plt

    doc = _doc(tmp_path)
    for draw in (official_bump_chart, first_image_chart, log_runs_chart):
        fig = draw(doc)
        text = _texts(fig)
        assert "RTX A6000, organisers' run, 2026" in text
        if draw is not log_runs_chart:
            assert all(k in text for k in ("00_Base", "01_Fast", "02_Cold")) and "unknown for 3 of 3" in text
        plt.close(fig)
    assert "02_Cold (joins)" in _texts(official_bump_chart(doc)), "it joins the FLOPs and params sub-tracks"
    assert "README's SPAN: 7.74 ms" in _texts(log_runs_chart(doc))
    plt.close("all")
    paths = write_official_figures(doc, tmp_path / "figs")
    for index, stem in enumerate(("06_official_bump", "06_official_first_image", "06_official_log_runs")):
        assert_figure_files(paths[2 * index: 2 * index + 2], tmp_path / "figs", stem)


def test_an_entry_that_warms_up_while_it_loads_is_marked(tmp_path):
    import matplotlib.pyplot as plt

    doc = _doc(tmp_path, warm={"00_Base": 1, "01_Fast": 0, "02_Cold": 0})
    for fig in (official_bump_chart(doc), first_image_chart(doc)):
        text = _texts(fig)
        assert f"00_Base {OFFICIAL_WARM_MARK}" in text and f"01_Fast {OFFICIAL_WARM_MARK}" not in text
        assert "forward passes while it loads" in text and "unknown" not in text
        plt.close(fig)


def test_a_log_alone_draws_only_its_runs(tmp_path):
    log = write_log(tmp_path / "NTIRE2025-EfficientSR.log", [("01_EFDN", 22.5, 18.2, 2), ("00_EFDN", 18.8, 14.6, 2)])
    doc = analyse_official(log=log, load=False)
    paths = write_official_figures(doc, tmp_path / "figs", prefix="x")
    assert [p.name for p in paths] == ["x_official_log_runs.png", "x_official_log_runs.pdf"]
