import csv
import io

from slimrlfn.factsheet.field import field_csv, field_latex, field_markdown, write_field_tables
from tests.helpers import fake_field_doc


def test_the_field_table_in_three_formats(tmp_path):
    doc = fake_field_doc()
    markdown = field_markdown(doc)
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 4, "a header and the four measured entries"
    assert rows[1].startswith("| 1 | 4 | -3 |") and "11_Steady" in rows[1] and "8.00*" in rows[1]
    assert "00_Base (baseline)" in markdown and "30.00 \u00b1 1.00" in markdown and "15.10" in markdown
    assert "12_Broken: not ranked, entry 12: missing file" in markdown and "Test CPU" in markdown
    assert "Kendall's \u03c4, cold against warm: -0.333" in markdown
    latex = field_latex(doc)
    assert r"\toprule" in latex and r"\bottomrule" in latex and r"00\_Base (baseline)" in latex
    assert r"$\pm$" in latex and "\u00b1" not in latex
    table = list(csv.DictReader(io.StringIO(field_csv(doc))))
    assert [r["key"] for r in table] == ["00_Base", "10_Fast", "10_Fastlite", "11_Steady", "12_Broken"]
    assert table[0]["rank_cold"] == "4" and float(table[0]["score_cold"]) == doc["entries"][0]["score_cold"]
    assert table[4]["status"] == "error" and table[4]["rank_cold"] == ""
    paths = write_field_tables(doc, tmp_path / "sheet", stem="06_field")
    assert [p.name for p in paths] == ["06_field.tex", "06_field.md", "06_field.csv"]
    assert paths[1].read_text() == markdown


def test_slimrlfn_factsheet_field_writes_the_table_and_refuses_other_files(tmp_path, capsys):
    import json

    from slimrlfn.cli import main

    path = tmp_path / "field.json"
    path.write_text(json.dumps(fake_field_doc()))
    assert main(["factsheet", "--field", str(path), "--out_dir", str(tmp_path / "out")]) == 0
    assert "11_Steady" in capsys.readouterr().out and (tmp_path / "out" / "field.tex").is_file()
    (tmp_path / "other.json").write_text('{"kind": "slimrlfn-timing-study"}')
    assert main(["factsheet", "--field", str(tmp_path / "other.json")]) == 2
    assert "not a field results file" in capsys.readouterr().err
    assert main(["factsheet", "--field", str(tmp_path / "none.json")]) == 2
    assert "--field" in capsys.readouterr().err


def test_the_table_has_the_forward_passes_each_entry_runs_while_it_loads():
    doc = fake_field_doc()
    doc["entries"][2]["load_forwards"] = 1  # 10_Fastlite
    markdown = field_markdown(doc)
    header = next(line for line in markdown.splitlines() if line.startswith("| Rank cold"))
    column = header.split(" | ").index("Load fwd")
    row = next(line for line in markdown.splitlines() if "| 10_Fastlite |" in line)
    assert row.split(" | ")[column] == "1" and "Load fwd: the forward passes" in markdown
    untouched = next(line for line in markdown.splitlines() if "| 11_Steady |" in line)
    assert untouched.split(" | ")[column] == "", "unknown (a document without the count) stays blank"


def test_a_field_json_written_before_the_year_records_still_reads():
    """docs/figures/field_cpu.json keeps the 2026 ranking under key names with the year (rank_cold_2026)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "figures" / "field_cpu.json"
    doc = json.loads(path.read_text())
    assert "years" not in doc and "tau_2026" in doc["ranking"], "the file is of the older form"
    columns = field_markdown(doc).splitlines()[0]
    assert "| Rank cold 2026 | Rank warm 2026 |" in columns
    table = list(csv.DictReader(io.StringIO(field_csv(doc))))
    by_key = {e["key"]: e for e in doc["entries"]}
    for row in table:
        old = by_key[row["key"]].get("rank_cold_2026")
        assert row["rank_cold_2026"] == ("" if old is None else str(old)) and row["year"] == "2024"
    assert f"2026 weights: {doc['ranking']['tau_2026']:.3f}" in field_markdown(doc)


def test_the_field_tables_of_a_quick_run_say_quick_mode_in_every_format(tmp_path):
    """A quick-mode field (2 runs, 4 entries) must not read as a result: its tables say so, the CSV on every row."""
    doc = fake_field_doc()
    assert "quick mode" not in field_markdown(doc).lower()
    paths = write_field_tables(doc, tmp_path, stem="06_field_quick", quick=True)
    tex, md, table = (p.read_text() for p in paths)
    assert md.split("\n\n")[1].startswith("- Quick mode: ") and "Quick mode: " in tex
    rows = list(csv.DictReader(io.StringIO(table)))
    assert rows and all(r["mode"] == "quick" for r in rows)
