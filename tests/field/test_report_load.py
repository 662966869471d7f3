"""The field's conclusion says how loaded the machine was while it ran, and that a loaded machine's small
differences are its load, not findings."""
from __future__ import annotations

from slimrlfn.field.report import _load_sentence


def test_no_loads_recorded_says_nothing():
    assert _load_sentence({"device_info": {"cpu_count": 2}, "entries": [{"runs": [{}]}]}) is None


def test_the_range_of_loads_is_given_and_a_loaded_machine_is_flagged():
    quiet = {"device_info": {"cpu_count": 2}, "cold": [{"load_avg_1min": 0.5}, {"parts": {"load_avg_1min": 1.25}}]}
    assert _load_sentence(quiet) == "Machine load (1-minute average) during the runs: 0.50-1.25 on 2 CPUs."
    busy = {"device_info": {"cpu_count": 2}, "cold": [{"load_avg_1min": 0.5}, {"load_avg_1min": 3.1}]}
    text = _load_sentence(busy)
    assert text.startswith("Machine load (1-minute average) during the runs: 0.50-3.10 on 2 CPUs: the cores were shared")
    assert "not a finding" in text
