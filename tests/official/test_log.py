"""slimrlfn.official.log: runs of test_demo.py read from the organisers' log."""
from __future__ import annotations

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.official.log import log_summary, parse_log, read_log
from tests.conftest import shared_dir
from tests.official.helpers import write_log


def test_several_runs_under_two_names_are_read_in_order(tmp_path):
    path = write_log(tmp_path / "NTIRE2025-EfficientSR.log", [("01_Base", 22.5, 18.0, 3), ("01_Base", 19.0, 15.0, 3),
                                                              ("00_Base", 18.0, 14.0, 3), ("00_Base", 18.5, None, 2)])
    runs = read_log(path)
    assert [r["model"] for r in runs] == ["01_Base", "01_Base", "00_Base", "00_Base"]
    assert runs[0]["parts"]["valid"]["images"] == 3 and runs[0]["parts"]["valid"]["psnr"][2] == 25.02
    assert runs[0]["parts"]["test"]["memory_mb"] == 467.698 and runs[0]["counts"]["num_conv"] == 39
    assert runs[0]["ave_time"] == pytest.approx((22.5 + 18.0) / 2) and runs[3]["ave_time"] == 18.5
    summary = log_summary(runs)
    every = summary["all"]
    assert summary["runs"] == 4 and every["valid_first"] == 22.5
    assert every["valid_others"] == {"n": 3, "mean": pytest.approx(18.5), "min": 18.0, "max": 19.0}
    assert every["ave_time_last"] == 18.5 and every["unit"] == "milliseconds"
    assert list(summary["models"]) == ["01_Base", "00_Base"]
    assert summary["models"]["00_Base"]["valid"]["mean"] == pytest.approx(18.25)


def test_ssim_lines_seconds_and_noise_are_read_as_logged():
    text = ("23-03-15 10:00:00.000 : 00_RFDN_baseline\n"
            "23-03-15 10:00:01.000 : 0801.png - PSNR: 26.10 dB; SSIM: 0.7712.\n"
            "a line without a time stamp\n"
            "23-03-15 10:00:02.000 : ------> Average runtime of (valid) is : 0.030000 seconds\n"
            "23-03-15 10:00:02.000 : ------> Average PSNR of (valid) is : 26.100000 dB\n")
    (run,) = parse_log(text)
    assert run["parts"]["valid"]["psnr"] == [26.10] and run["parts"]["valid"]["runtime_unit"] == "seconds"
    assert run["ave_time"] == 0.03


def test_a_file_without_runs_is_one_line(tmp_path):
    path = tmp_path / "x.log"
    path.write_text("hello\n")
    with pytest.raises(UserError, match="--log .*no run of test_demo.py in it"):
        read_log(path)
    with pytest.raises(UserError, match="cannot read it"):
        read_log(tmp_path / "none.log")


@pytest.mark.shared
def test_the_2024_log_holds_three_runs_of_the_baseline():
    path = shared_dir() / "ntire2024_esr" / "NTIRE2024-EfficientSR.log"
    if not path.is_file():
        pytest.skip(f"{path} not found (set SLIMRLFN_SHARED)")
    summary = log_summary(read_log(path))
    every = summary["all"]
    assert summary["runs"] == 3 and list(summary["models"]) == ["00_RLFN_baseline"]
    assert [round(r["ave_time"], 2) for r in every["runs"]] == [14.16, 14.43, 12.21]
    assert every["ave_time"]["mean"] == pytest.approx(13.60, abs=5e-3)
    assert all(r["images"] == {"valid": 200, "test": 200} for r in every["runs"])
