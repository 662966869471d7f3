"""The backend comparison: matmul peak, the summary and targets from a document, the figures, the command."""
from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest
import torch

from slimrlfn.cli import main
from slimrlfn.data.sample import real_input
from slimrlfn.deploy.bench import TABLE_HEADERS, compare_backends, readable_table, summarize, target_summary
from slimrlfn.figures.backends import plot_backend_cold_warm, plot_flops_vs_speedup, speedups
from slimrlfn.metrics.latency import matmul_peak_gflops

matplotlib.use("Agg")


def _row(model, backend, median, flops, resolved=None, diff=4e-4, size=(256, 256)):
    return {"model": model, "label": model.upper(), "size": list(size), "backend": backend,
            "resolved": resolved or backend, "flops_g": flops, "median_ms": median, "iqr_ms": 1.0,
            "first_ms": median * 2, "setup_s": 0.3, "gflops": 2 * flops / median * 1000, "peak_fraction": 0.5,
            "max_abs_diff": diff, "times_ms": [median] * 3}


@pytest.fixture
def document():
    rows = [_row("rlfn", "eager", 100.0, 19.67), _row("rlfn", "openvino", 80.0, 19.67),
            _row("slimrlfn_prune", "eager", 80.0, 11.30), _row("slimrlfn_prune", "openvino", 50.0, 11.30),
            _row("slimrlfn_prune", "onnxruntime", 40.0, 11.30, diff=5e-3),  # fastest, but not exact
            _row("slimrlfn_prune", "auto", 50.0, 11.30, resolved="openvino")]
    rows[-1]["peak_fraction"] = 0.85
    rows[-1]["openvino_over_auto"] = {"ratio": 1.0, "ci": [0.97, 1.03], "n": [3, 3]}
    return {"device_info": {"device": "cpu", "device_type": "cpu", "device_name": "Test CPU"}, "threads": 2,
            "peak": {"gflops": 100.0}, "auto": "openvino", "rows": rows}


def test_matmul_peak_is_positive_and_per_size():
    peak = matmul_peak_gflops(torch.device("cpu"), sizes=(64, 128), reps=2)
    assert set(peak["per_size"]) == {64, 128} and peak["gflops"] == max(peak["per_size"].values()) > 0


def test_real_input_has_the_size_and_range():
    x = real_input(40, 56, torch.device("cpu"), data_range=255.0)
    assert x.shape == (1, 3, 40, 56) and 0 <= float(x.min()) and float(x.max()) <= 255 and float(x.std()) > 10


def test_the_readable_table_has_units_and_sensible_precision(document):
    rows = readable_table(document)
    assert list(rows[0]) == list(TABLE_HEADERS.values()) and len(rows) == 6
    last = rows[-1]
    assert last["model"] == "SLIMRLFN_PRUNE" and last["LR size"] == "256x256" and last["runs as"] == "openvino"
    assert last["matmul peak [%]"] == 85.0 and last["max |diff| to eager"] == "4.0e-04"
    assert last["median [ms]"] == 50.0 and last["GFLOP/s"] == round(2 * 11.30 / 50.0 * 1000, 1)


def test_summary_picks_the_fastest_exact_path(document):
    summary = summarize(document)
    prune = next(f for f in summary["fastest"] if f["model"] == "slimrlfn_prune")
    assert prune["backend"] == "openvino" and prune["speedup_vs_eager"] == pytest.approx(1.6)
    assert "Test CPU" in summary["conclusion"] and "target 80%: met" in summary["conclusion"]


def test_targets(document):
    targets = target_summary(document)
    assert targets["peak_target_met"] and targets["no_slower_than_openvino"]
    document["rows"][-1]["peak_fraction"] = 0.7
    document["rows"][-1]["openvino_over_auto"]["ci"] = [0.90, 0.95]
    targets = target_summary(document)
    assert not targets["peak_target_met"] and targets["no_slower_than_openvino"] is False
    assert target_summary(document, size=(64, 64)) == {"measured": False}


def test_speedups_are_relative_to_rlfn_on_the_same_backend(document):
    points = {(p["model"], p["backend"]): p for p in speedups(document, [256, 256])}
    assert points[("slimrlfn_prune", "openvino")]["speedup"] == pytest.approx(80 / 50)
    assert points[("slimrlfn_prune", "eager")]["flops_reduction"] == pytest.approx(1 - 11.30 / 19.67)
    assert ("slimrlfn_prune", "onnxruntime") not in points  # no RLFN on that backend


def test_figures_are_written_and_not_blank(document, tmp_path):
    for fig, stem in ((plot_flops_vs_speedup(document, tmp_path / "a"), "a"),
                      (plot_backend_cold_warm(document, "slimrlfn_prune", tmp_path / "b"), "b")):
        assert "Test CPU" in "".join(t.get_text() for t in fig.texts)
        assert (tmp_path / f"{stem}.png").stat().st_size > 5000 and (tmp_path / f"{stem}.pdf").is_file()
        assert np.std(matplotlib.image.imread(tmp_path / f"{stem}.png")) > 0.05
    with pytest.raises(ValueError, match="was not measured"):
        plot_backend_cold_warm(document, "slimrlfn")


def test_flops_vs_speedup_names_the_models_where_no_point_or_title_is(document, tmp_path):
    """04b's model names were drawn inside the axes, over the backends' points: now above it, clear of the title."""
    fig = plot_flops_vs_speedup(document, tmp_path / "a")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in [a for a in fig.axes if a.get_title()]:
        names = [t for child in ax.child_axes for t in child.get_xticklabels() if t.get_text()]
        assert names, "the models are not named"
        inside = ax.get_window_extent(renderer)
        title = ax.title.get_window_extent(renderer)
        for name in names:
            box = name.get_window_extent(renderer)
            assert box.y0 >= inside.y1 - 1, f"{name.get_text()} is inside the axes"
            assert not box.overlaps(title), f"{name.get_text()} runs into the title"


@pytest.mark.parametrize("isolate", [False, True], ids=["one_process", "a_process_per_path"])
def test_compare_backends_on_an_official_model(official_zoo, tmp_path, isolate):
    out = tmp_path / "b.json"
    document = compare_backends(["slimrlfn_prune"], [[32, 32]], ["eager", "channels_last"], rounds=2, device="cpu",
                                out=str(out), progress=False, isolate=isolate)
    assert json.loads(out.read_text())["rows"] == document["rows"] and document["isolate"] is isolate
    for row in document["rows"]:  # the peak is a contestant of the same rounds: one sample per round
        assert row["peak_fraction"] == pytest.approx(row["gflops"] / row["peak_gflops"]) and row["peak_gflops"] > 0
        assert len(row["times_ms"]) == 2
    assert len(document["peak_samples_gflops"]) == 2
    assert [r["backend"] for r in document["rows"]] == ["eager", "channels_last"]
    assert document["rows"][0]["max_abs_diff"] == 0.0 and document["rows"][1]["max_abs_diff"] < 1e-3
    assert document["rows"][0]["flops_g"] == pytest.approx(11.2952 * (32 * 32) / (256 * 256), rel=1e-2)  # ESA pooling: not exactly by area


def test_command_rejects_bad_sizes_and_backends(capsys, official_zoo):
    assert main(["backends", "--sizes", "big"]) == 2
    assert main(["backends", "--backends", "cuda_graphs", "--device", "cpu", "--models", "slimrlfn"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["slimrlfn: error: --sizes big: expected HxW, e.g. 256x256",
                   "slimrlfn: error: --backend cuda_graphs: needs a CUDA device, but the device is cpu"]


def test_a_path_that_fails_in_its_worker_is_one_line_naming_it(tmp_path):
    from slimrlfn.arch.checkpoints import save_checkpoint
    from slimrlfn.arch.config import build_model
    from slimrlfn.arch.ref import resolve_model
    from slimrlfn.core.errors import UserError
    from slimrlfn.deploy.workers import WorkerProcess

    tiny = save_checkpoint(build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}), tmp_path / "t.pth")
    worker = WorkerProcess("tensorrt", "cpu")
    try:
        with pytest.raises(UserError, match=r"^backend tensorrt: --backend tensorrt: needs a CUDA device"):
            worker.build(resolve_model(checkpoint=tiny).ref.to_json(), 32, 32)
    finally:
        worker.close()
    assert not worker._process.is_alive()
