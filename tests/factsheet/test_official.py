"""slimrlfn.factsheet.official: the official table and the comparison, in LaTeX, Markdown and CSV."""
from __future__ import annotations

import csv
import io

from slimrlfn.factsheet.official import (comparison_table, official_table, table_csv, table_latex, table_markdown,
                                         write_official_tables)
from slimrlfn.official.analysis import analyse_official
from tests.helpers import fake_field_doc
from tests.official.helpers import entry, write_results


def _doc(tmp_path, field=None):
    path = write_results(tmp_path, {"00_Base": entry([7.74] * 4, [7.74] * 4, 9.83, 0.151, psnr=26.8951, test_psnr=27.0),
                                    "01_Fast": entry([7.0] * 4, [7.0] * 4, 9.0, 0.14),
                                    "02_Cold": entry([14.0, 7.0, 7.0, 7.0], [7.0] * 4, 5.0, 0.1),
                                    "03_Low": entry([5.0] * 4, [5.0] * 4, 5.0, 0.1, psnr=26.80)})
    return analyse_official(results=path, year="2026", load=False, field=field)


def test_the_official_table_in_three_formats(tmp_path):
    doc = _doc(tmp_path)
    table = official_table(doc)
    markdown = table_markdown(table)
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 4 and rows[-1].startswith("|  |  | 03_Low |"), "below a gate: last, unranked"
    cold = next(r for r in rows if "02_Cold" in r)
    # SPAN's 7.74 ms, 9.83 G, 0.151 M: 02_Cold is slower (7.88 ms) only with its first image, out of two sub-tracks
    assert "| 7.88 | 14.00 | 7.00 | 7.00 |" in cold and cold.endswith("| 3->2 | n/e->1 | n/e->1 |")
    assert "00_Base (baseline)" in markdown and "26.90*" in markdown, "passes the valid gate only at 2 decimals"
    assert "02_Cold joins flops when re-scored" in markdown and "Load fwd unknown for all 4 entries" in markdown
    assert "0.8 exp(2T/T0) + 0.1 exp(2F/F0) + 0.1 exp(2P/P0) relative to SPAN" in markdown
    latex = table_latex(table)
    assert r"\toprule" in latex and r"\bottomrule" in latex and r"00\_Base (baseline)" in latex
    records = list(csv.DictReader(io.StringIO(table_csv(table))))
    assert records[0]["key"] == "01_Fast" and float(records[1]["first_ms"]) == 14.0
    assert records[-1]["rank_main"] == "" and records[1]["rank_flops_first_removed"] == "1"


def test_the_comparison_is_written_beside_when_a_field_is_given(tmp_path):
    doc = _doc(tmp_path, field=fake_field_doc())
    table = comparison_table(doc)
    assert [row[0] for row in table["rows"]] == ["00_Base"] and "Kendall's" in table["notes"][0]
    paths = write_official_tables(doc, tmp_path / "sheet", stem="official_2026")
    assert [p.name for p in paths] == [f"official_2026{s}" for s in (".tex", ".md", ".csv")] + [
        f"official_2026_comparison{s}" for s in (".tex", ".md", ".csv")]
    assert paths[1].read_text() == table_markdown(official_table(doc))
