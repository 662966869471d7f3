"""slimrlfn.official.plan (notebook 06's defaults) and slimrlfn.official.report (its words and summary)."""
from __future__ import annotations

from slimrlfn.official.analysis import analyse_official
from slimrlfn.official.plan import has_official_files, official_plan
from slimrlfn.official.report import SUMMARY_KEYS, conclusion, log_markdown, summary
from tests.official.helpers import entry, write_log, write_results


def test_the_plan_finds_the_organisers_files_and_never_loads_in_quick_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("SLIMRLFN_SHARED", str(tmp_path))
    plan = official_plan(quick=False)
    assert plan["challenge_repo"] is None and "official analysis is skipped" in plan["why"]
    write_results(tmp_path / "ntire2026_esr")
    full, quick = official_plan(quick=False), official_plan(quick=True)
    assert full["challenge_repo"] == tmp_path / "ntire2026_esr" and full["load"] is True and quick["load"] is False
    assert official_plan(False, load=False)["load"] is False
    other = tmp_path / "other"
    other.mkdir()
    assert official_plan(True, field_repo=other)["field_repo"] is None and not has_official_files(other)
    write_log(other / "NTIRE2024-EfficientSR.log", [("00_Base", 20.0, 10.0, 2)])
    assert official_plan(True, field_repo=other)["field_repo"] == other


def test_the_conclusion_and_the_summary_say_what_the_document_holds(tmp_path):
    path = write_results(tmp_path, {"00_SPAN": entry([7.74] * 4, [7.74] * 4, 9.83, 0.151, test_psnr=27.0),
                                    "02_Cold": entry([14.0, 7.0, 7.0, 7.0], [7.0] * 4, 5.0, 0.1)})
    log = write_log(tmp_path / "NTIRE2026-EfficientSR.log", [("00_SPAN", 8.0, 7.5, 2), ("00_SPAN", 7.9, 7.4, 2)])
    doc = analyse_official(results=path, log=log, load=False)
    text = conclusion(doc)
    assert "slower than the median valid image for 1 of 2 entries, by up to 7.00 ms (02_Cold" in text
    assert "02_Cold joins at rank 1" in text and "The README states SPAN at 7.74 ms" in text
    assert "the log holds 2 runs (00_SPAN)" in text
    assert log_markdown(doc).splitlines()[2] == "| 1 | 00_SPAN | 8.00 | 7.50 | 7.75 |"
    brief = summary(doc, "o.json", ["a.png"], ["t.md"])
    assert tuple(brief) == SUMMARY_KEYS and brief["tau"]["main"] == 1.0 and brief["json"] == "o.json"
    assert brief["first_image"]["02_Cold"]["rescored_ms"] == 7.0
