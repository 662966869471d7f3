"""slimrlfn.official.results: the organisers' results.json and results.txt."""
from __future__ import annotations

import json

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.official.results import model_id_of, read_results, read_results_table
from tests.official.helpers import write_results


def test_keys_are_stripped_and_their_ids_read(tmp_path):
    path = write_results(tmp_path)
    entries = read_results(path)
    assert [e["key"] for e in entries] == ["00_Base", "009_Three", "11_Padded"]
    assert [e["raw_key"] for e in entries][2] == "         11_Padded" and [e["model_id"] for e in entries] == [0, 9, 11]
    assert entries[0]["valid_runtime"][0] == 100.0 and entries[0]["activations"] is None
    assert model_id_of("x_SPAN") is None


@pytest.mark.parametrize("text, message", [
    ("{", "not JSON"),
    ("[]", "expected test_demo.py's results.json"),
    ('{"00_A": {"valid_runtime": [1.0]}}', "entry '00_A' has no valid_ave_runtime"),
    ('{"00_A": {"valid_runtime": [], "valid_ave_runtime": 1, "valid_ave_psnr": 27, "flops": 1, "num_parameters": 1}}',
     "valid_runtime is not a list of numbers"),
])
def test_a_file_that_is_not_results_json_is_one_line(tmp_path, text, message):
    path = tmp_path / "results.json"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_results(path)
    with pytest.raises(UserError, match="--results .*cannot read it"):
        read_results(tmp_path / "missing.json")


def test_results_txt_is_read_as_printed(tmp_path):
    path = tmp_path / "results.txt"
    fmt = "{:20s}\t{:10s}\t{:10s}\t{:14s}\t{:14s}\t{:14s}\t{:10s}\t{:10s}\t{:8s}\t{:8s}\t{:8s}\n"
    path.write_text(fmt.format("Model", "Val PSNR", "Test PSNR", "Val Time [ms]", "Test Time [ms]", "Ave Time [ms]",
                               "Params [M]", "FLOPs [G]", "Acts [M]", "Mem [M]", "Conv")
                    + fmt.format("         11_Padded", "26.90", "27.03", "54.01", "47.56", "50.79", "0.051", "3.30",
                                 "184.13", "483.96", "  169"))
    row = read_results_table(path)["11_Padded"]
    assert row["ave_ms"] == 50.79 and row["num_conv"] == 169 and row["params_m"] == 0.051
    path.write_text("not a table\n")
    with pytest.raises(UserError, match="not test_demo.py's header"):
        read_results_table(path)
    assert json.loads(json.dumps(row)) == row
