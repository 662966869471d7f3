"""slimrlfn.timing: protocols, fresh-process and consecutive runs, resume, tables and conclusion; tiny models, no wall-time asserts."""
from __future__ import annotations

import json
import os

import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.core.errors import UserError
from slimrlfn.data.pairs import find_pairs
from slimrlfn.timing import worker as timing_study
from slimrlfn.timing.protocols import make_settings, run_protocol
from slimrlfn.timing.report import conclusion, format_table, study_table, warmup_lengths
from slimrlfn.timing.report import summary as study_summary
from slimrlfn.timing.study import run_study
from tests.helpers import fake_timing_study

TINY = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}


@pytest.fixture
def tiny_ckpt(tmp_path) -> str:
    torch.manual_seed(0)
    return str(save_checkpoint(build_model(TINY), tmp_path / "tiny.pth"))


@torch.no_grad()
def test_sample_counts_per_protocol(tiny_pairs):
    model = build_model(TINY).eval()
    pairs = find_pairs(tiny_pairs)
    cpu = torch.device("cpu")
    ntire = run_protocol(model, make_settings("ntire", "cpu", tiny_pairs), cpu, pairs, data_range=255.0)
    assert [s["name"] for s in ntire] == ["a", "b"] and not any(s["warmup"] for s in ntire)
    assert ntire[0]["shape"] == [24, 20]
    warm = run_protocol(model, make_settings("warm", "cpu", tiny_pairs, warmup=2), cpu, pairs, data_range=255.0)
    assert [s["warmup"] for s in warm] == [True] * 4 + [False] * 2
    micro = run_protocol(model, make_settings("micro", "cpu", warmup=2, iters=3, sizes=[[16, 16], [20, 24]],
                                              channels_last=True), cpu, data_range=255.0)
    assert len(micro) == 10 and [s["name"] for s in micro[::5]] == ["16x16", "20x24"]
    assert sum(s["warmup"] for s in micro) == 4 and all(s["ms"] > 0 for s in micro)


def test_separate_uses_fresh_processes_and_resumes(tiny_ckpt, tiny_pairs, tmp_path):
    out = tmp_path / "separate.json"
    study = run_study([tiny_ckpt], "separate", 2, data_dir=tiny_pairs, device="cpu", threads=1, out=out,
                      progress=False)
    good = study["records"]
    assert [r["status"] for r in good] == ["ok", "ok"] and [r["run"] for r in good] == [1, 2]
    pids = {r["pid"] for r in good}
    assert len(pids) == 2 and os.getpid() not in pids
    assert all(len(r["samples"]) == 2 for r in good)
    assert good[0]["device_info"]["threads"] == 1
    assert json.loads(out.read_text())["records"] == study["records"]
    # resume: the two finished runs are kept (same pids), only run 3 runs
    again = run_study([tiny_ckpt], "separate", 3, data_dir=tiny_pairs, device="cpu", threads=1, out=out,
                      progress=False)
    by_run = {r["run"]: r for r in again["records"]}
    assert sorted(by_run) == [1, 2, 3] and {by_run[1]["pid"], by_run[2]["pid"]} == pids
    assert by_run[3]["pid"] not in pids and by_run[3]["status"] == "ok"


def test_a_checkpoint_that_cannot_be_read_is_refused_before_any_worker(tiny_ckpt, tiny_pairs, tmp_path):
    bad = tmp_path / "corrupt.pth"
    bad.write_bytes(b"not a torch file")
    out = tmp_path / "separate.json"
    with pytest.raises(UserError, match="corrupt.pth: cannot be read as weights only"):
        run_study([tiny_ckpt, str(bad)], "separate", 2, data_dir=tiny_pairs, device="cpu", out=out, progress=False)
    assert not out.exists()


def test_a_failing_worker_gives_one_error_line_per_run(tiny_ckpt, tiny_pairs, tmp_path):
    from dataclasses import asdict

    from slimrlfn.timing.protocols import make_settings
    from slimrlfn.timing.worker import run_subprocess

    bad = tmp_path / "corrupt.pth"
    bad.write_bytes(b"not a torch file")
    job = {"source": {"model": str(bad), "label": "corrupt", "ref": {"kind": "checkpoint", "checkpoint": str(bad)}},
           "scenario": "separate", "settings": asdict(make_settings("ntire", "cpu", tiny_pairs)), "runs": [1, 2]}
    records = []
    run_subprocess(job, records.append)
    assert [(r["run"], r["status"]) for r in records] == [(1, "error"), (2, "error")]
    assert "cannot be read" in records[0]["error"] and "\n" not in records[0]["error"]
    study = {"scenario": "separate", "protocol": "ntire", "runs": 2, "models": [job["source"]], "records": records}
    assert "failed" in format_table(study)


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


def test_tables_and_conclusion_from_known_numbers():
    separate = fake_timing_study("separate", {"A": [10.0, 11.0, 12.0], "B": [20.0, 21.0, 22.0]})
    consecutive = fake_timing_study("consecutive", {"A": [9.0, 5.0, 5.0], "B": [15.0, 10.0, 10.0]})
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


def test_warmup_lengths_of_a_micro_study(tiny_ckpt):
    study = run_study([tiny_ckpt], "consecutive", 1, "micro", device="cpu", warmup=1, iters=4, sizes=[[16, 16]],
                      isolate=False, progress=False)
    lengths = warmup_lengths(study)
    assert set(lengths) == {"tiny"} and lengths["tiny"]["16x16"]["n"] == 5
    assert study_table(study)["rows"][0]["label"] == "tiny* @16x16"


def test_resume_refuses_a_file_that_is_not_a_study(tiny_ckpt, tiny_pairs, tmp_path):
    out = tmp_path / "x.json"
    out.write_text("[1, 2]")
    with pytest.raises(UserError, match="not a timing results file"):
        run_study([tiny_ckpt], "consecutive", 1, data_dir=tiny_pairs, device="cpu", isolate=False, out=out,
                  progress=False)
    assert json.loads(out.read_text()) == [1, 2]


def test_the_warmup_table_is_readable():
    from slimrlfn.timing.report import warmup_table

    study = {"protocol": "micro", "records": [
        {"status": "ok", "label": "SlimRLFN", "samples": [{"name": "64x64", "ms": v} for v in
                                                           (90.123456, 12.5, 10.011111, 10.0, 10.02, 9.99)]}]}
    from slimrlfn.metrics.stats import warmup_length

    (row,) = warmup_table(study)
    steady = warmup_length([s["ms"] for s in study["records"][0]["samples"]])["steady_median"]
    assert row == {"model": "SlimRLFN", "input": "64x64", "forwards to settle": 2,
                   "steady median [ms]": round(steady, 2), "settled": True, "forwards timed": 6}
    assert len(repr(row["steady median [ms]"]).split(".")[1]) <= 2
