import subprocess
import sys

import pytest

from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.field.command import parse_pairs


def test_pairs_parse_and_refuse():
    assert parse_pairs(["38_SPAN:39_SPANtiny"]) == [("38_SPAN", "39_SPANtiny")]
    with pytest.raises(UserError, match="--pairs 38_SPAN: expected PARENT:CHILD"):
        parse_pairs(["38_SPAN"])


@pytest.mark.parametrize("argv, message", [
    (["--data_dir", "."], "give a challenge repository or at least one model"),
    (["--models", "rlfn", "--data_dir", "/nowhere"], "--data_dir /nowhere: no such folder"),
    (["--models", "rlfn", "--data_dir", ".", "--runs", "0"], "--runs 0: expected at least 1 run"),
    (["--models", "rlfn", "--data_dir", ".", "--pairs", "x"], "--pairs x: expected PARENT:CHILD"),
    (["--models", "rlfn", "--data_dir", ".", "--micro_sizes", "16"], "--micro_sizes 16: expected HxW"),
    (["--models", "rlfn", "--data_dir", ".", "--year", "2023"], "--year 2023: its score is not known"),
    (["--models", "rlfn", "--data_dir", ".", "--year", "1999"], "--year 1999: no NTIRE Efficient SR record"),
])
def test_bad_input_is_one_line_and_status_2(argv, message, capsys):
    assert main(["field", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_python_m_slimrlfn_field_is_the_same_command():
    proc = subprocess.run([sys.executable, "-m", "slimrlfn.field", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--challenge_repo" in proc.stdout and "--runs" in proc.stdout


def test_the_field_year_is_the_one_given_else_the_repository_s_else_2024(tmp_path):
    from slimrlfn.field.study import field_year

    (tmp_path / "README.md").write_text("# NTIRE 2026 Challenge on Efficient Super-Resolution\n")
    assert field_year(None, tmp_path) == "2026" and field_year("2025", tmp_path) == "2025"
    assert field_year(None, None) == "2024"
    (tmp_path / "README.md").write_text("# NTIRE 2023 Challenge\n")
    assert field_year(None, tmp_path) == "2024", "2023 states no weights: the default year ranks it"
