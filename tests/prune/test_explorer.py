"""The trade-off explorer's data and widget without a browser: points, the Pareto front, the details and the side by
side view, a click (as plotly calls it back), the export and the model it writes."""
from __future__ import annotations

import json

import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.ref import load_model
from slimrlfn.core.errors import UserError
from slimrlfn.prune.explorer import (AXES, TradeoffExplorer, compare_html, details_html, export_step, pareto_front,
                                     points, runs_from_folders)
from tests.helpers import tiny_slimrlfn


def record(step, width, psnr, ratio, flops):
    return {"step": step, "widths": {"b1.c1_r": width, "features": 8},
            "removed": {"b1.c1_r": 8 - width} if step else {}, "psnr_before": psnr - 0.2, "psnr_after": psnr,
            "params_m": 0.01 - 0.001 * step, "flops_g": flops, "latency_ms": 10 * ratio, "latency_ci_ms": [9.0, 11.0],
            "latency_pairs": 7, "latency_ratio": ratio, "latency_ratio_ci": [ratio - 0.05, ratio + 0.05],
            "ntire_score": 5.0 - step, "ntire_score_ci": [4.5 - step, 5.5 - step], "finetune": {"iterations": 8}}


@pytest.fixture
def run_folder(tmp_path):
    """A pruning run folder of two steps whose checkpoints are tiny SlimRLFNs (as `slimrlfn prune` writes them)."""
    folder = tmp_path / "run"
    records = [record(0, 8, 30.0, 0.9, 1.0), record(1, 6, 29.8, 0.8, 0.8), record(2, 4, 29.0, 0.85, 0.6)]
    for r in records:
        save_checkpoint(tiny_slimrlfn(seed=r["step"]), folder / f"step_{r['step']:02d}" / "model.pth")
    (folder / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder


REFERENCE = {"SlimRLFN": {**record(0, 8, 30.1, 0.7, 0.9), "psnr": 30.1}}


def test_points_carry_checkpoints_and_references(run_folder):
    runs = runs_from_folders({"l1": run_folder})
    found = points(runs, {"l1": run_folder}, REFERENCE)
    assert [p.label for p in found] == ["l1 step 0", "l1 step 1", "l1 step 2", "SlimRLFN"]
    assert found[1].checkpoint == run_folder / "step_01" / "model.pth"
    assert found[3].is_reference and found[3].checkpoint is None and found[3].value("psnr") == 30.1
    assert found[1].interval("latency_ratio") == pytest.approx((0.75, 0.85)) and found[1].interval("psnr") is None


def test_the_pareto_front_keeps_what_nothing_beats(run_folder):
    found = points(runs_from_folders({"l1": run_folder}), references=REFERENCE)
    # latency ratio (lower better) against PSNR (higher better): the reference beats steps 0, 1 and 2 on both
    assert [p.label for p in pareto_front(found, "latency_ratio", "psnr")] == ["SlimRLFN"]
    # FLOPs against PSNR: step 2 has the fewest FLOPs, step 1 trades; the reference has the most PSNR
    assert [p.label for p in pareto_front(found, "flops_g", "psnr")] == ["l1 step 2", "l1 step 1", "SlimRLFN"]
    with pytest.raises(UserError, match="axis 'speed'"):
        pareto_front(found, "speed", "psnr")


def test_details_and_the_side_by_side_view(run_folder):
    runs = runs_from_folders({"l1": run_folder})
    found = points(runs, {"l1": run_folder}, REFERENCE)
    text = details_html(found[2], runs)
    for part in ("b1.c1_r -4", "b1.c1_r 8&rarr;4", "29.000 (28.800 after the surgery, then 8 fine-tuning",
                 "0.850 [0.800, 0.900]", "7 pairs", "NTIRE 2024 score", "run/step_02/model.pth"):
        assert part in text, part
    both = compare_html(found[1], found[3], runs)
    assert "l1 step 1" in both and "SlimRLFN" in both and "an official model" in both


def test_a_click_selects_compares_and_the_export_writes_a_model_that_loads(run_folder, tmp_path):
    runs = runs_from_folders({"l1": run_folder})
    explorer = TradeoffExplorer(runs, {"l1": run_folder}, REFERENCE, eval_hint="--data_dir d")
    assert len(explorer.figure.data) == 4  # the run, the reference, the Pareto front, the selection ring
    trace, indexes = explorer._traces[0]

    class Clicked:  # what plotly passes to on_click
        point_inds = [1]

    explorer._clicked(trace, Clicked(), None)
    assert explorer.selected == [indexes[1]] and "l1 step 1" in explorer.details.value
    assert "click a second point" in explorer.compare.value
    explorer.select(3)
    assert "SlimRLFN" in explorer.details.value and "l1 step 1" in explorer.compare.value
    assert list(explorer.figure.data[-1].x) == [0.8, 0.7]  # the rings sit on the two selected points
    with pytest.raises(UserError, match="no checkpoint to export"):
        explorer.export(tmp_path / "x.pth")
    explorer.select(2)
    assert explorer.path.value == "l1_step02.pth"  # suggested for the selected step
    explorer.select(1)
    assert explorer.path.value == "l1_step01.pth"
    explorer.path.value = "mine.pth"
    explorer.select(2)
    assert explorer.path.value == "mine.pth"  # what the user typed stays
    path, command = explorer.export(tmp_path / "picked.pth")
    assert command == f"slimrlfn eval --checkpoint {path} --data_dir d"
    assert path.read_bytes() == (run_folder / "step_02" / "model.pth").read_bytes()
    spec = load_model(str(path))
    reference = tiny_slimrlfn(seed=2)
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(spec.model(x), reference(x))
    with pytest.raises(UserError, match="exists"):
        explorer.export(tmp_path / "picked.pth")
    explorer.path.value = str(tmp_path / "no_folder" / "m.pth")
    explorer._export_clicked()
    assert "no folder" in explorer.message.value and not (tmp_path / "no_folder").exists()


def test_axes_change_the_chart_and_bad_input_is_refused(run_folder, tmp_path):
    runs = runs_from_folders({"l1": run_folder})
    explorer = TradeoffExplorer(runs, {"l1": run_folder})
    explorer.x_menu.value = "flops_g"
    assert list(explorer.figure.data[0].x) == [1.0, 0.8, 0.6]
    assert explorer.figure.layout.xaxis.title.text == AXES["flops_g"][0]
    with pytest.raises(UserError, match="no finished pruning step"):
        runs_from_folders({"x": tmp_path})
    with pytest.raises(UserError, match="ending in .pth"):
        export_step(points(runs, {"l1": run_folder})[1], tmp_path / "m.pt")
