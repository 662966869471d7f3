"""Notebook 01 (model definition) in quick mode: the counts, the bit-exact re-saved checkpoints, the figures."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.notebooks.harness import assert_figure, read_json


@pytest.mark.notebook
def test_01_model_definition(workbook_01_to_04):
    dirs = workbook_01_to_04  # 01 run in quick mode by the workbook runner, once for the tests of 01, 03, 04, 05
    summary = read_json(dirs["results"] / "01_model_definition.json")
    counts = {row["model"]: row for row in summary["counts"]}
    assert set(counts) == {"RLFN", "SlimRLFN", "SlimRLFN-prune"}
    assert counts["SlimRLFN"]["flops"] == pytest.approx(11.99, abs=0.01)
    assert counts["RLFN"]["flops"] == pytest.approx(19.67, abs=0.01)
    assert counts["SlimRLFN-prune"]["flops"] == pytest.approx(11.30, abs=0.01)
    assert counts["SlimRLFN"]["num_parameters_raw"] == 207774
    assert counts["SlimRLFN-prune"]["num_parameters"] < counts["SlimRLFN"]["num_parameters"] < counts["RLFN"]["num_parameters"]
    for row in counts.values():
        assert row["flops"] < row["macs_ptflops_aten"] < row["macs_ptflops_pytorch"]
    assert [p["max |output difference|"] for p in summary["parity"]] == [0.0, 0.0, 0.0]
    assert all(p["config == zoo config"] for p in summary["parity"])
    for name in ("rlfn", "slimrlfn", "slimrlfn_prune"):
        assert (dirs["results"] / "checkpoints" / f"{name}.pth").is_file()
        assert (dirs["results"] / "checkpoints" / f"{name}.json").is_file()
    assert {Path(p).name for p in summary["figures"]} == {
        "01_channel_widths.png", "01_channel_widths.pdf", "01_model_counts.png", "01_model_counts.pdf"}
    for stem in ("01_channel_widths", "01_model_counts"):
        assert_figure(dirs["figures"] / f"{stem}.png")
