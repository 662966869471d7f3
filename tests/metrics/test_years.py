"""slimrlfn.metrics.years: one record per challenge year, the readers of the field JSON's per-year values."""
from __future__ import annotations

import re

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.metrics.years import (YEARS, challenge_year, document_years, scored_year, weighting_years, year_in_text,
                                    year_of_repository, year_value)
from tests.conftest import shared_dir


def test_every_year_from_2022_to_2026_has_a_record_and_unknown_facts_are_none_with_a_note():
    assert list(YEARS) == ["2022", "2023", "2024", "2025", "2026"]
    for year in ("2022", "2023"):
        record = YEARS[year]
        assert record.weights is None and record.gates is None and record.baseline.measures() is None
        assert record.notes, "a year without rules says so"
    assert YEARS["2022"].baseline.name == "IMDN" and YEARS["2023"].baseline.name == "RFDN"
    assert YEARS["2024"].weights == YEARS["2025"].weights == (0.7, 0.15, 0.15)
    assert YEARS["2026"].weights == (0.8, 0.1, 0.1)
    assert YEARS["2024"].baseline.measures() == (13.54, 19.67, 0.317)
    assert YEARS["2025"].baseline.measures() == (16.69, 16.70, 0.276)
    for year in ("2024", "2025", "2026"):
        assert YEARS[year].gates == {"valid": 26.90, "test": 26.99} and YEARS[year].runs == 5
        assert [t.name for t in YEARS[year].sub_tracks] == ["runtime", "flops", "params"]
    assert weighting_years() == ("2024", "2026")
    assert YEARS["2026"].device_text() == "RTX A6000, organisers' run, 2026"
    assert YEARS["2024"].to_json()["weights"] == [0.7, 0.15, 0.15]


def test_a_year_without_a_record_or_without_a_score_is_one_line():
    assert challenge_year(2026).year == "2026"
    with pytest.raises(UserError, match="--year 2019: no NTIRE Efficient SR record for that year"):
        challenge_year("2019")
    with pytest.raises(UserError, match="--year 2023: its score is not known"):
        scored_year("2023")


def test_the_year_is_read_from_names_and_repositories(tmp_path):
    assert year_in_text("# [NTIRE 2026 Challenge on Efficient Super-Resolution]") == "2026"
    assert year_in_text("NTIRE2025-EfficientSR.log") == "2025" and year_in_text("ntire2024_esr") == "2024"
    assert year_in_text("NTIRE 2019 and nothing else") is None
    (tmp_path / "test_demo.py").write_text('utils_logger.logger_info("NTIRE2023-EfficientSR", log_path="x.log")\n')
    assert year_of_repository(tmp_path) == "2023"
    (tmp_path / "README.md").write_text("# NTIRE 2022 Challenge\n")
    assert year_of_repository(tmp_path) == "2022" and year_of_repository(tmp_path / "none") is None


def test_per_year_values_are_read_from_records_and_from_older_key_names():
    new = {"rank_cold": 2, "years": {"2024": {"rank_cold": 2}, "2026": {"rank_cold": 3}}}
    old = {"rank_cold": 2, "rank_cold_2026": 3}
    for entry in (new, old):
        assert year_value(entry, "rank_cold", "2024") == 2 and year_value(entry, "rank_cold", "2026") == 3
    assert year_value(old, "rank_cold", "2025") is None and year_value(new, "rank_cold", "2025", "-") == "-"
    assert document_years({}) == ("2024", ["2024", "2026"])
    assert document_years({"year": "2026", "years": ["2024", "2026"]}) == ("2026", ["2024", "2026"])


@pytest.mark.shared
@pytest.mark.parametrize("year", ["2024", "2026"])
def test_the_records_say_what_the_readmes_of_shared_say(year):
    repo = shared_dir() / f"ntire{year}_esr"
    if not (repo / "README.md").is_file():
        pytest.skip(f"the NTIRE {year} ESR repository not found in {repo} (set SLIMRLFN_SHARED)")
    record = YEARS[year]
    readme = re.sub(r"\\_", "_", (repo / "README.md").read_text())
    assert year_of_repository(repo) == year
    for gate in record.gates.values():
        assert f"{gate:.2f} dB" in readme or f"{gate:.2f} on" in readme
    for weight in record.weights:
        assert f"{weight:g}" in readme
    for value in record.baseline.measures():
        assert f"{value:g}" in readme or f"{value:.2f}" in readme
    assert record.baseline.name in readme and record.gpu.split()[-1] in readme
