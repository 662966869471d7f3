"""slimrlfn.timing, timing_study, timing_report, figures_timing and ``slimrlfn time``: tiny models, no wall-time asserts."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from slimrlfn import cli, timing_study
from slimrlfn.checkpoints import save_checkpoint
from slimrlfn.data import find_pairs
from slimrlfn.errors import UserError
from slimrlfn.models import build_model
from slimrlfn.timing import (CudaEventTimer, PerfCounterTimer, bootstrap_ci, first_share, make_timer, ratio_ci,
                             summarize, warmup_length)
from slimrlfn.timing_report import conclusion, format_table, study_summary, study_table, warmup_lengths
from slimrlfn.timing_study import make_settings, run_protocol, run_study

TINY = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}


@pytest.fixture
def tiny_ckpt(tmp_path) -> str:
    torch.manual_seed(0)
    return str(save_checkpoint(build_model(TINY), tmp_path / "tiny.pth"))


# --------------------------------------------------------------------------- statistics


def test_summarize_known_sequence():
    s = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (s["n"], s["mean"], s["median"], s["q1"], s["q3"], s["iqr"]) == (5, 3.0, 3.0, 2.0, 4.0, 2.0)
    assert s["std"] == pytest.approx(np.std([1, 2, 3, 4, 5], ddof=1))
    assert s["ci_median"][0] <= 3.0 <= s["ci_median"][1] and s["ci_mean"][0] <= 3.0 <= s["ci_mean"][1]
    assert 1.0 <= s["ci_mean"][0] < s["ci_mean"][1] <= 5.0
    assert summarize([1.0, 2.0, 3.0, 4.0, 5.0]) == s, "fixed seed: the same intervals every time"


def test_bootstrap_edge_cases():
    assert bootstrap_ci([7.0]) == (7.0, 7.0)
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)
    with pytest.raises(ValueError):
        summarize([])


def test_ratio_and_first_share():
    assert ratio_ci([2.0, 2.0, 2.0], [1.0, 1.0]) == {"ratio": 2.0, "ci": [2.0, 2.0], "n": [3, 2]}
    r = ratio_ci([10.0, 12.0, 11.0], [5.0, 6.0, 5.5])
    assert r["ratio"] == pytest.approx(2.0) and r["ci"][0] <= 2.0 <= r["ci"][1]
    assert first_share([3.0, 1.0, 1.0, 1.0]) == 0.5
    assert first_share([]) is None


def test_warmup_length_on_synthetic_traces():
    cold = [50.0, 20.0, 12.0, 10.2, 10.0, 9.9, 10.1, 10.0, 10.0, 9.95]
    w = warmup_length(cold)
    assert w["steady_median"] == pytest.approx(10.0) and w["length"] == 3 and w["settled"]
    assert warmup_length([10.0] * 8)["length"] == 0
    spike = [30.0] + [10.0] * 8 + [30.0]
    assert warmup_length(spike)["length"] == 10 and not warmup_length(spike)["settled"]
    assert warmup_length(spike, window=3)["length"] == 2  # running medians 30, 20, then 10 ...
    assert warmup_length([10.0, 10.4, 10.0, 10.0], tolerance=0.05)["length"] == 0


def test_cpu_timer_and_cuda_timer_choice():
    timer = make_timer(torch.device("cpu"))
    assert isinstance(timer, PerfCounterTimer)
    result, ms, wall_ms = timer(lambda a, b: a + b, 2, 3)
    assert result == 5 and ms >= 0.0 and ms == wall_ms
    with pytest.raises(ValueError):
        CudaEventTimer(torch.device("cpu"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_event_timer():
    timer = make_timer(torch.device("cuda"))
    assert isinstance(timer, CudaEventTimer)
    x = torch.ones(256, 256, device="cuda")
    result, ms, wall_ms = timer(torch.mm, x, x)
    assert result.is_cuda and ms > 0.0 and wall_ms > 0.0


# --------------------------------------------------------------------------- protocols


@torch.no_grad()
def test_sample_counts_per_protocol(tiny_pairs):
    model = build_model(TINY).eval()
    pairs = find_pairs(tiny_pairs)
    cpu = torch.device("cpu")
    ntire = run_protocol(model, make_settings("ntire", "cpu", tiny_pairs), cpu, pairs)
    assert [s["name"] for s in ntire] == ["a", "b"] and not any(s["warmup"] for s in ntire)
    assert ntire[0]["shape"] == [24, 20]
    warm = run_protocol(model, make_settings("warm", "cpu", tiny_pairs, warmup=2), cpu, pairs)
    assert [s["warmup"] for s in warm] == [True] * 4 + [False] * 2
    micro = run_protocol(model, make_settings("micro", "cpu", warmup=2, iters=3, sizes=[[16, 16], [20, 24]],
                                              channels_last=True), cpu)
    assert len(micro) == 10 and [s["name"] for s in micro[::5]] == ["16x16", "20x24"]
    assert sum(s["warmup"] for s in micro) == 4 and all(s["ms"] > 0 for s in micro)


def test_separate_uses_fresh_processes_reports_failures_and_resumes(tiny_ckpt, tiny_pairs, tmp_path):
    bad = tmp_path / "corrupt.pth"
    bad.write_bytes(b"not a torch file")
    out = tmp_path / "separate.json"
    study = run_study([tiny_ckpt, str(bad)], "separate", 2, data_dir=tiny_pairs, device="cpu", threads=1,
                      out=out, progress=False)
    good = [r for r in study["records"] if r["label"] == "tiny"]
    failed = [r for r in study["records"] if r["label"] == "corrupt"]
    assert [r["status"] for r in good] == ["ok", "ok"] and [r["run"] for r in good] == [1, 2]
    pids = {r["pid"] for r in good}
    assert len(pids) == 2 and os.getpid() not in pids
    assert [r["status"] for r in failed] == ["error", "error"]
    assert "cannot be read" in failed[0]["error"] and "\n" not in failed[0]["error"]
    assert all(len(r["samples"]) == 2 for r in good)
    assert good[0]["device_info"]["threads"] == 1
    assert json.loads(out.read_text())["records"] == study["records"]
    assert "failed" in format_table(study)
    # resume: the two finished runs are kept (same pids), only run 3 runs
    again = run_study([tiny_ckpt], "separate", 3, data_dir=tiny_pairs, device="cpu", threads=1, out=out,
                      progress=False)
    by_run = {r["run"]: r for r in again["records"]}
    assert sorted(by_run) == [1, 2, 3] and {by_run[1]["pid"], by_run[2]["pid"]} == pids
    assert by_run[3]["pid"] not in pids and by_run[3]["status"] == "ok"


def test_consecutive_in_process_failure_is_kept_beside_others(tiny_ckpt, tiny_pairs, monkeypatch):
    calls = {"n": 0}
    real = timing_study.run_protocol

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("out of memory (simulated)\nsecond line")
        return real(*args, **kwargs)

    monkeypatch.setattr(timing_study, "run_protocol", flaky)
    study = run_study([tiny_ckpt], "consecutive", 3, data_dir=tiny_pairs, device="cpu", isolate=False, progress=False)
    assert [r["status"] for r in study["records"]] == ["ok", "error", "ok"]
    assert study["records"][1]["error"] == "RuntimeError: out of memory (simulated)"
    assert {r["pid"] for r in study["records"]} == {os.getpid()}
    assert [r["process_run"] for r in study["records"]] == [1, 2, 3]
    table = study_table(study)
    assert table["rows"][0]["runs"][1] is None and table["rows"][0]["label"] == "tiny*"
    assert table["rows"][0]["mean_later"] == pytest.approx(study["records"][2]["groups"]["images"]["mean_ms"])
    assert table["errors"] == ["tiny run 2: RuntimeError: out of memory (simulated)"]


def test_consecutive_resume_keeps_only_complete_blocks(tiny_ckpt, tiny_pairs, tmp_path, monkeypatch):
    out = tmp_path / "consecutive.json"
    args = dict(data_dir=tiny_pairs, device="cpu", isolate=False, out=out, progress=False)
    first = run_study([tiny_ckpt], "consecutive", 2, **args)
    calls = {"n": 0}
    real = timing_study.run_protocol

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(timing_study, "run_protocol", counting)
    kept = run_study([tiny_ckpt], "consecutive", 2, **args)
    assert calls["n"] == 0 and kept["records"] == first["records"]
    longer = run_study([tiny_ckpt], "consecutive", 3, **args)  # a block of 3 cannot reuse 2 runs of another process
    assert calls["n"] == 3 and [r["started"] for r in longer["records"][:2]] != [r["started"] for r in first["records"]]
    with pytest.raises(UserError, match="other settings"):
        run_study([tiny_ckpt], "consecutive", 3, protocol="warm", **args)
    fresh = run_study([tiny_ckpt], "consecutive", 1, protocol="warm", overwrite=True, **args)
    assert fresh["protocol"] == "warm" and len(fresh["records"]) == 1


# --------------------------------------------------------------------------- reports and figures


def _fake_study(scenario: str, values: dict) -> dict:
    records = []
    for label, runs in values.items():
        for run, mean in enumerate(runs, 1):
            samples = [{"name": "x", "shape": [20, 20], "warmup": False, "ms": 2 * mean, "wall_ms": 2 * mean},
                       {"name": "y", "shape": [20, 20], "warmup": False, "ms": 0.0, "wall_ms": 0.0}]
            records.append({"model": label.lower(), "label": label, "run": run, "pid": 1 if scenario == "consecutive" else run,
                            "status": "ok", "error": None, "samples": samples, "device_info": {"device_name": "Test CPU",
                            "device_type": "cpu", "threads": 2, "torch": "x"},
                            "groups": {"images": {"n": 2, "mean_ms": mean, "median_ms": mean, "first_ms": 2 * mean}}})
    return {"scenario": scenario, "protocol": "ntire", "runs": len(next(iter(values.values()))),
            "models": [{"model": k.lower(), "label": k} for k in values], "records": records}


def test_tables_and_conclusion_from_known_numbers():
    separate = _fake_study("separate", {"A": [10.0, 11.0, 12.0], "B": [20.0, 21.0, 22.0]})
    consecutive = _fake_study("consecutive", {"A": [9.0, 5.0, 5.0], "B": [15.0, 10.0, 10.0]})
    table = study_table(consecutive)
    assert table["columns"] == ["run 1", "run 2", "run 3", "mean runs 2-3"]
    assert table["rows"][1]["runs"] == [15.0, 10.0, 10.0] and table["rows"][1]["mean_later"] == 10.0
    assert "Test CPU" in format_table(separate) and "B*" in format_table(consecutive)
    result = conclusion(separate, consecutive)
    assert result["cold"]["fastest"] == "a" and result["warm"]["fastest"] == "a"
    assert result["cold"]["ratios"]["b"]["ratio"] == pytest.approx(21.0 / 11.0)
    assert result["summary"]["a"]["cold_over_warm"]["ratio"] == pytest.approx(11.0 / 5.0)
    assert result["first_image_share_cold"]["A"] == pytest.approx(1.0)
    assert "Fastest cold: A" in result["text"] and "Fastest warm: A" in result["text"]
    assert "not a GPU measurement" in result["text"]
    summary = study_summary(separate, consecutive, figures=["f/04_x"])
    assert summary["figures"] == ["f/04_x.png", "f/04_x.pdf"]
    json.dumps(summary)


def test_figures_write_png_and_pdf_with_the_device(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from slimrlfn.figures_timing import plot_cold_warm, plot_first_image_share, plot_latency_traces

    separate = _fake_study("separate", {"A": [10.0, 11.0, 12.0], "B": [20.0, 21.0, 22.0]})
    consecutive = _fake_study("consecutive", {"A": [9.0, 5.0, 5.0], "B": [15.0, 10.0, 10.0]})
    for i, r in enumerate(separate["records"] + consecutive["records"]):
        r["samples"][1]["ms"] = 1.0 + i  # log axis: positive times
    for fn in (plot_latency_traces, plot_cold_warm, plot_first_image_share):
        stem = tmp_path / fn.__name__
        fig = fn(separate, consecutive, stem)
        assert stem.with_suffix(".png").stat().st_size > 0 and stem.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
        texts = " ".join(t.get_text() for t in fig.texts)
        assert "Test CPU" in texts and "not a GPU measurement" in texts
        assert all(ax.get_ylabel().endswith(("[ms]", "[ms] (log)", "[%]")) for ax in fig.axes if ax.get_ylabel())
        plt.close(fig)


def test_warmup_lengths_of_a_micro_study(tiny_ckpt):
    study = run_study([tiny_ckpt], "consecutive", 1, "micro", device="cpu", warmup=1, iters=4, sizes=[[16, 16]],
                      isolate=False, progress=False)
    lengths = warmup_lengths(study)
    assert set(lengths) == {"tiny"} and lengths["tiny"]["16x16"]["n"] == 5
    assert study_table(study)["rows"][0]["label"] == "tiny* @16x16"


# --------------------------------------------------------------------------- the command


def test_cli_time_writes_every_sample(tiny_ckpt, tiny_pairs, tmp_path, capsys):
    out = tmp_path / "t.json"
    code = cli.main(["time", "--models", tiny_ckpt, "--data_dir", str(tiny_pairs), "--scenario", "consecutive",
                     "--in_process", "--runs", "2", "--device", "cpu", "--threads", "1", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "run 1" in text and "mean runs 2-2" in text and "tiny*" in text
    saved = json.loads(out.read_text())
    assert [len(r["samples"]) for r in saved["records"]] == [2, 2]
    assert saved["settings"]["threads"] == 1 and saved["settings"]["data_dir"] == str(Path(tiny_pairs).resolve())


@pytest.mark.parametrize("argv, message", [
    (["--models", "nope"], "unknown model 'nope'"),
    (["--runs", "0"], "--runs 0: expected at least 1 run"),
    (["--scenario", "sometimes"], "--scenario 'sometimes'"),
    (["--protocol", "ntire", "--warmup", "3"], "no warm-up"),
    (["--device", "cpu", "--fp16"], "--fp16: a GPU factor"),
    (["--protocol", "micro", "--sizes", "8x8"], "--sizes 8x8"),
])
def test_cli_bad_input_is_one_line(argv, message, tiny_ckpt, tiny_pairs, tmp_path, capsys):
    base = ["time", "--models", tiny_ckpt, "--data_dir", str(tiny_pairs), "--out", str(tmp_path / "x.json")]
    assert cli.main(base + argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("slimrlfn: error: ") and message in err and "\n" not in err
    assert not (tmp_path / "x.json").exists()


def test_cli_data_dir_without_pairs(tiny_ckpt, tmp_path, capsys):
    assert cli.main(["time", "--models", tiny_ckpt, "--data_dir", str(tmp_path), "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("slimrlfn: error: --data_dir") and "no 'valid' pairs" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cli_cuda_without_cuda(tiny_ckpt, tiny_pairs, tmp_path, capsys):
    assert cli.main(["time", "--models", tiny_ckpt, "--data_dir", str(tiny_pairs), "--device", "cuda",
                     "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("slimrlfn: error: --device cuda: CUDA is not available")


def test_resume_refuses_a_file_that_is_not_a_study(tiny_ckpt, tiny_pairs, tmp_path):
    out = tmp_path / "x.json"
    out.write_text("[1, 2]")
    with pytest.raises(UserError, match="not a timing results file"):
        run_study([tiny_ckpt], "consecutive", 1, data_dir=tiny_pairs, device="cpu", isolate=False, out=out,
                  progress=False)
    assert json.loads(out.read_text()) == [1, 2]
