"""Notebook 03 (evaluation) in quick mode: PSNR of the official models on the sample, results.json, the figures."""
from __future__ import annotations

import pytest

from tests.notebooks.harness import assert_figure, read_json


@pytest.mark.notebook
def test_03_evaluation(workbook_01_to_04):
    dirs = workbook_01_to_04  # 03 run in quick mode by the workbook runner on the embedded sample
    summary = read_json(dirs["results"] / "03_evaluation.json")
    assert set(summary["psnr"]) == {"RLFN", "SlimRLFN", "SlimRLFN-prune"}
    for value in summary["psnr"].values():
        assert 20.0 < value < 40.0
    assert summary["psnr"]["RLFN"] > summary["psnr"]["SlimRLFN-prune"] - 0.5
    assert summary["splits"] == ["valid"]
    assert isinstance(summary["device"], str) and summary["device"]
    assert summary["device_info"]["device"] == "cpu"
    results = read_json(dirs["results"] / "eval" / "results.json")
    assert set(results) == {"00_RLFN_baseline", "21_SlimRLFN", "21_SlimRLFN_prune"}
    for entry in results.values():
        assert len(entry["valid_psnr"]) == 4 and "test_psnr" not in entry
    for stem in ("03_psnr_per_image", "03_sr_crops"):
        assert_figure(dirs["figures"] / f"{stem}.png")
        assert str(dirs["figures"] / f"{stem}.png") in summary["figures"]
