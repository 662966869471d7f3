from slimrlfn.figures.field import bump_chart, cold_minus_warm, psnr_vs_runtime, write_field_figures
from tests.helpers import assert_figure_files, fake_field_doc


def _texts(fig):
    return " ".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def test_the_three_figures_name_the_device_and_every_ranked_entry(tmp_path):
    import matplotlib.pyplot as plt

    doc = fake_field_doc()
    for draw in (bump_chart, psnr_vs_runtime, cold_minus_warm):
        fig = draw(doc)
        text = _texts(fig)
        assert "Test CPU" in text and "not a GPU measurement" in text
        assert all(key in text for key in ("00_Base", "10_Fast", "10_Fastlite", "11_Steady"))
        assert "12_Broken" not in text, "an entry that failed is not drawn"
        plt.close(fig)
    paths = write_field_figures(doc, tmp_path)
    for index, stem in enumerate(("06_field_bump", "06_field_psnr_runtime", "06_field_cold_minus_warm")):
        assert_figure_files(paths[2 * index: 2 * index + 2], tmp_path, stem)


def test_the_gate_is_drawn_only_on_the_official_splits():
    import matplotlib.pyplot as plt

    doc = fake_field_doc()
    assert "gate" not in _texts(psnr_vs_runtime(doc))
    doc["official_splits"] = True
    assert "gate 26.90 dB" in _texts(psnr_vs_runtime(doc))
    plt.close("all")


def test_an_entry_that_warms_up_while_it_loads_is_marked_in_every_figure():
    import matplotlib.pyplot as plt

    from slimrlfn.figures.field import WARM_MARK

    doc = fake_field_doc()
    for fig in (bump_chart(doc), psnr_vs_runtime(doc)):
        assert WARM_MARK not in _texts(fig), "no entry warms up: no mark"
        plt.close(fig)
    doc["entries"][1]["load_forwards"] = 20  # 10_Fast runs 20 forwards while it loads
    for fig in (bump_chart(doc), psnr_vs_runtime(doc)):
        text = _texts(fig)
        assert f"10_Fast {WARM_MARK}" in text and f"10_Fastlite {WARM_MARK}" not in text
        assert "forward passes while it loads" in text
        plt.close(fig)


def test_the_panels_follow_the_years_ranked_and_read_older_documents():
    import matplotlib.pyplot as plt

    doc = fake_field_doc()
    text = _texts(bump_chart(doc))
    assert "2024 weights (0.7/0.15/0.15)" in text and "2026 weights (0.8/0.1/0.1)" in text
    legacy = fake_field_doc()
    for e in legacy["entries"]:
        for name, value in e.pop("years")["2026"].items():
            e[f"{name}_2026"] = value
    legacy["ranking"]["tau_2026"] = legacy["ranking"].pop("years")["2026"]["tau"]
    for name in ("year", "years"):
        legacy.pop(name)
    fig = bump_chart(legacy)
    assert len(fig.axes) == 2 and _texts(fig).count("2026 weights") == 1
    doc["year"] = "2026"
    assert _texts(bump_chart(doc)).index("2026 weights") < _texts(bump_chart(doc)).index("2024 weights")
    plt.close("all")
