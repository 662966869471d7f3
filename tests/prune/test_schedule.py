"""slimrlfn.prune.schedule and slimrlfn prune: steps, records, resume, the PSNR floor, latency-aware steps, bad input."""
from __future__ import annotations

import json

import pytest
import torch

from slimrlfn.arch.checkpoints import load_checkpoint, save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.cli import main as cli_main
from slimrlfn.core.errors import UserError
from slimrlfn.prune.records import load_records
from slimrlfn.prune.schedule import prune_iteratively
from slimrlfn.prune.settings import PruneSettings

TINY_SLIM = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 7, 8, 5],
             "esa_channels": 4}


@pytest.fixture
def start_checkpoint(tmp_path):
    torch.manual_seed(0)
    return str(save_checkpoint(build_model(TINY_SLIM).eval(), tmp_path / "start" / "tiny.pth"))


def settings(start, data, out, **overrides):
    values = dict(model=start, out_dir=str(out), val_dir=str(data), hr_dirs=[str(data / "DIV2K_LSDIR_valid_HR")],
                  criterion="l1", scope=["inner"], channels_per_step=1, max_steps=2, finetune_iterations=2,
                  batch_size=2, lr_patch=16, taylor_batches=1, latency_size=16, latency_runs=2, latency_warmup=1,
                  latency_seconds=0.2, device="cpu", progress=False)
    values.update(overrides)
    return PruneSettings(**values)


def test_schedule_writes_steps_records_and_a_final_model(start_checkpoint, tiny_pairs, tmp_path):
    out = tmp_path / "run"
    summary = prune_iteratively(settings(start_checkpoint, tiny_pairs, out, criterion="taylor"), log=lambda _: None)
    records = load_records(out)
    assert [r["step"] for r in records] == [0, 1, 2] and summary["stop_reason"] == "max_steps"
    assert records[2]["config"]["prune_channels"] == [4, 5, 6, 3]
    for r in records:
        for key in ("psnr_before", "psnr_after", "params_m", "flops_g", "latency_ms", "ntire_score", "widths"):
            assert key in r, key
        assert (out / f"step_{r['step']:02d}" / "model.pth").is_file()
        assert json.loads((out / f"step_{r['step']:02d}" / "model.json").read_text())["config"] == r["config"]
    assert records[1]["finetune"]["iterations"] == 2 and records[2]["params"] < records[1]["params"] < records[0]["params"]
    model, config = load_checkpoint(summary["final_checkpoint"])
    assert config == records[2]["config"]
    # eager: the computation the schedule validates with, so the PSNR is the same to the last bit
    status = cli_main(["eval", "--checkpoint", summary["final_checkpoint"], "--data_dir", str(tiny_pairs),
                       "--save_dir", str(tmp_path / "eval"), "--device", "cpu", "--no_images", "--backend", "eager"])
    assert status == 0
    entry = json.loads((tmp_path / "eval" / "results.json").read_text())["final"]
    assert entry["valid_ave_psnr"] == records[2]["psnr_after"]


def test_global_rank_esa_and_feature_scope_with_target_shape(start_checkpoint, tiny_pairs, tmp_path):
    out = tmp_path / "run"
    target = {"prune_channels": [6, 7, 8, 5], "feature_channels": 6, "esa_channels": [3, 4]}
    summary = prune_iteratively(settings(start_checkpoint, tiny_pairs, out, scope=["esa", "feature"], rank="global",
                                         channels_per_step=1, max_steps=None, target_shape=target,
                                         finetune_iterations=0), log=lambda _: None)
    assert summary["stop_reason"] == "target_shape"
    final = load_records(out)[-1]["config"]
    assert final["feature_channels"] == 6 and final["esa_channels"] == [3, 4]


def test_resume_continues_after_the_last_finished_step(start_checkpoint, tiny_pairs, tmp_path, monkeypatch):
    import slimrlfn.prune.schedule as schedule

    out = tmp_path / "run"
    prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=1), log=lambda _: None)
    first = (out / "records.jsonl").read_text()
    step1_time = (out / "step_01" / "model.pth").stat().st_mtime_ns
    real_finetune, calls = schedule.finetune, []

    def interrupted(*args, **kwargs):  # Ctrl-C in the middle of step 3's fine-tuning
        calls.append(kwargs["first_patch"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_finetune(*args, **kwargs)

    monkeypatch.setattr(schedule, "finetune", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=4), log=lambda _: None)
    assert [r["step"] for r in load_records(out)] == [0, 1, 2]
    assert (out / "records.jsonl").read_text().startswith(first)
    monkeypatch.setattr(schedule, "finetune", real_finetune)
    lines = []
    summary = prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=4), log=lines.append)
    assert lines[0].startswith("resuming") and "after step 2" in lines[0]
    records = load_records(out)
    assert [r["step"] for r in records] == [0, 1, 2, 3, 4] and summary["steps"] == 4
    assert (out / "records.jsonl").read_text().startswith(first)
    assert (out / "step_01" / "model.pth").stat().st_mtime_ns == step1_time


def test_psnr_floor_keeps_the_last_step_above_it(start_checkpoint, tiny_pairs, tmp_path, monkeypatch):
    import slimrlfn.prune.measure as measure
    import slimrlfn.prune.schedule as schedule

    values = iter([30.0, 29.8, 29.5, 29.4, 28.7])  # start; then (before, after) fine-tuning per step

    def fake_psnr(*args, **kwargs):
        return {"psnr": next(values), "psnr_per_image": {}}

    monkeypatch.setattr(schedule, "validate_psnr", fake_psnr)  # right after the surgery
    monkeypatch.setattr(measure, "validate_psnr", fake_psnr)  # after fine-tuning
    out = tmp_path / "run"
    summary = prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=5, finetune_iterations=0,
                                         psnr_floor=29.0), log=lambda _: None)
    records = load_records(out)
    assert [r["psnr_after"] for r in records] == [30.0, 29.5, 28.7]
    assert summary["stop_reason"] == "psnr_floor" and summary["final_step"] == 1
    assert load_checkpoint(summary["final_checkpoint"])[1] == records[1]["config"]


def test_latency_aware_step_times_its_candidates(start_checkpoint, tiny_pairs, tmp_path):
    out = tmp_path / "run"
    prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=1, finetune_iterations=0,
                               latency_aware=True, scope=["inner", "esa"], multiple_of=2), log=lambda _: None)
    step = load_records(out)[1]
    assert {row["unit"] for row in step["plan"]} == {"b1.c1_r", "b1.c2_r", "b2.c1_r", "b2.c2_r", "b1.esa", "b2.esa"}
    (chosen,) = [row for row in step["plan"] if row.get("chosen")]
    assert step["removed"] == {chosen["unit"]: chosen["count"]}
    assert all(isinstance(row["saved_ms"], float) for row in step["plan"])
    assert all(width % 2 == 0 for unit, width in step["widths"].items() if unit == chosen["unit"])


@pytest.mark.parametrize("overrides, pattern", [
    (dict(target_params=10.0, max_steps=None), r"target already met by the starting model: --target_params 10"),
    (dict(target_params=1e-4, max_steps=None), r"--target_params 0.0001 is unreachable"),
    (dict(target_shape=[6, 7, 8, 5]), r"--target_shape is already met"),
    (dict(target_shape=[6, 7, 8, 6]), r"unreachable: b2.c2_r would grow from 5 to 6"),
    (dict(target_shape={"feature_channels": 6}), r"unreachable with --scope inner: features .* add feature to --scope"),
    (dict(channels_per_step=5), r"--channels_per_step 5 would remove every channel of b2.c2_r \(5 channels\)"),
    (dict(psnr_floor=99.0), r"--psnr_floor 99.0 dB is not below the starting PSNR"),
    (dict(max_steps=None), r"no stop condition"),
    (dict(hr_dirs=[]), r"--hr_dir: fine-tuning"),
])
def test_bad_input_is_one_line_and_writes_nothing(start_checkpoint, tiny_pairs, tmp_path, overrides, pattern):
    out = tmp_path / "run"
    with pytest.raises(UserError, match=pattern) as info:
        prune_iteratively(settings(start_checkpoint, tiny_pairs, out, **overrides), log=lambda _: None)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_bad_input_on_resume_loses_nothing(start_checkpoint, tiny_pairs, tmp_path):
    out = tmp_path / "run"
    prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=1), log=lambda _: None)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(UserError, match=r"holds another run: its criterion is 'l1', this run's 'l2'"):
        prune_iteratively(settings(start_checkpoint, tiny_pairs, out, criterion="l2"), log=lambda _: None)
    with pytest.raises(UserError, match=r"--psnr_floor 99.0 dB is not below"):
        prune_iteratively(settings(start_checkpoint, tiny_pairs, out, psnr_floor=99.0), log=lambda _: None)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match=r"not empty and holds no pruning run"):
        prune_iteratively(settings(start_checkpoint, tiny_pairs, tmp_path / "other"), log=lambda _: None)
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_command_prints_one_line_and_exits_non_zero(start_checkpoint, tiny_pairs, tmp_path, capsys):
    status = cli_main(["prune", "--model", start_checkpoint, "--val_dir", str(tiny_pairs), "--out_dir", str(tmp_path / "run"),
                   "--finetune_iterations", "0", "--channels_per_step", "9", "--max_steps", "1", "--device", "cpu",
                   "--latency_size", "16", "--no_progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("slimrlfn: error: --channels_per_step 9")


def test_a_run_folder_written_before_references_had_a_json_form_still_resumes(start_checkpoint, tiny_pairs, tmp_path):
    """An older run.json stores the model as its text and lacks the keys added since (fraction, val_dirs, pruner):
    the one run reads it as the same run and resumes it."""
    import json

    out = tmp_path / "run"
    prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=1), log=lambda _: None)
    document = json.loads((out / "run.json").read_text())
    assert document["run"]["model"] == {"kind": "checkpoint", "checkpoint": start_checkpoint}
    document["run"]["model"] = start_checkpoint  # as the earlier schedule wrote it
    for key in ("fraction", "val_dirs"):
        document["run"].pop(key)
    for key in ("pruner", "start_widths"):
        document.pop(key)
    (out / "run.json").write_text(json.dumps(document))
    lines = []
    prune_iteratively(settings(start_checkpoint, tiny_pairs, out, max_steps=2), log=lines.append)
    assert lines[0].startswith(f"resuming {out} after step 1") and len(load_records(out)) == 3
