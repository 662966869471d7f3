"""Notebook 04b (deployment paths) in quick mode: every available path compared, cold/warm per path, the figures."""
from __future__ import annotations

import pytest
import torch

from slimrlfn.deploy.backends import available_backends, resolve_backend
from tests.notebooks.harness import assert_figure, read_json


@pytest.mark.notebook
def test_04b_quick_mode_compares_every_path(fresh_clone_workbook):
    dirs = fresh_clone_workbook  # 04b run in quick mode by the newcomer's `make workbook`
    results, figures = dirs["results"], dirs["figures"]
    summary = read_json(results / "04b_deployment_backends.json")
    comparison = read_json(results / "04b_backends.json")
    cpu = torch.device("cpu")
    expected = ["auto", *[b for b in available_backends(cpu) if b != "compile"]]
    assert summary["mode"] == "quick" and summary["backends"] == expected
    assert len(comparison["rows"]) == 3 * len(expected)
    for row in comparison["rows"]:
        assert row["size"] == [64, 64] and row["median_ms"] > 0
        # a ratio of two medians of 3 rounds on a shared CPU: positive and consistent, not bounded by 1
        assert row["peak_fraction"] == pytest.approx(row["gflops"] / row["peak_gflops"]) and row["peak_fraction"] > 0
        assert row["max_abs_diff"] is not None and row["max_abs_diff"] < 1e-2
        assert len(row["times_ms"]) == 3
    assert [f["model"] for f in summary["fastest"]] == ["rlfn", "slimrlfn", "slimrlfn_prune"]
    assert all(f["backend"] in expected for f in summary["fastest"])
    assert summary["conclusion"].startswith("On ")
    for key in ("eager/separate", f"{resolve_backend('auto', cpu)}/consecutive"):
        study = read_json(summary["timing_studies"][key])
        assert [r["status"] for r in study["records"]] == ["ok", "ok"]
    for stem in ("04b_flops_vs_speedup", "04b_backend_cold_warm"):
        for suffix in (".png", ".pdf"):
            assert (figures / f"{stem}{suffix}").stat().st_size > 5000
        assert_figure(figures / f"{stem}.png")
