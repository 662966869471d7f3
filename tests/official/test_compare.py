"""slimrlfn.official.compare: a local field against the organisers' run."""
from __future__ import annotations

import pytest

from slimrlfn.official.analysis import analyse_official
from slimrlfn.official.compare import compare_field, local_first_image
from tests.helpers import fake_field_doc
from tests.official.helpers import entry, write_results


def test_entries_match_by_id_and_orders_are_compared(tmp_path):
    field = fake_field_doc()
    path = write_results(tmp_path, {"00_Base": entry([50.0, 10.0, 10.0], [10.0], 10.0, 0.3),
                                    "10_Fast": entry([40.0, 8.0, 8.0], [8.0], 8.0, 0.2),
                                    "  11_Steady": entry([9.0, 9.0, 9.0], [9.0], 5.0, 0.1),
                                    "10_Fastlite": entry([9.0, 7.0, 7.0], [7.0], 7.0, 0.1)})
    official = analyse_official(results=path, year="2026", load=False)
    comparison = compare_field(field, official)
    rows = {r["key"]: r for r in comparison["rows"]}
    assert set(rows) == {"00_Base", "10_Fast", "10_Fastlite", "11_Steady"} and comparison["common"] == 4
    assert rows["10_Fastlite"]["official_key"] == "10_Fastlite", "by name first: two official entries have id 10"
    assert rows["11_Steady"]["official_key"] == "11_Steady" and rows["00_Base"]["official_relative"] == 1.0
    assert rows["00_Base"]["local_cold_relative"] == 1.0 and rows["00_Base"]["official_first_cost_ms"] == 40.0
    assert comparison["tau"]["official_vs_local_cold"] is not None
    assert any("not comparable" in note for note in comparison["notes"])
    assert comparison["local_device"].startswith("Test CPU")


def test_the_local_first_image_is_the_first_of_the_first_part_against_its_median():
    e = {"cold": [{"status": "ok", "parts": {"Set5": {"ms": [50.0, 10.0, 12.0]}}},
                  {"status": "ok", "parts": {"Set5": {"ms": [30.0, 10.0, 10.0]}}}, {"status": "error"}]}
    assert local_first_image(e) == {"first_ms": 40.0, "median_ms": pytest.approx(11.0),
                                    "first_cost_ms": pytest.approx(29.0)}
    assert local_first_image({"cold": []})["first_cost_ms"] is None


def test_an_entry_is_matched_by_id_when_its_name_differs(tmp_path):
    field = fake_field_doc()
    path = write_results(tmp_path, {"00_Renamed": entry([50.0, 10.0], [10.0], 10.0, 0.3)})
    comparison = compare_field(field, analyse_official(results=path, year="2026", load=False))
    assert [(r["key"], r["official_key"]) for r in comparison["rows"]] == [("00_Base", "00_Renamed")]
    assert any("cannot be compared" in note for note in comparison["notes"])
