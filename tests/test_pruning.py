"""Structured pruning: exact surgery, configs, criteria, planning, the iterative schedule, resume, bad input."""
from __future__ import annotations

import json
import math

import pytest
import torch

from slimrlfn.checkpoints import load_checkpoint, save_checkpoint
from slimrlfn.errors import UserError
from slimrlfn.models import SlimRLFN, build_model, config_of, validate_config
from slimrlfn.prune_measure import ntire_score
from slimrlfn.prune_plan import plan_counts
from slimrlfn.prune_schedule import PruneSettings, load_records, prune_iteratively
from slimrlfn.pruning import (ChannelGroups, channel_scores, config_with_widths, lowest, mask_model, prune_model,
                              unit_widths, units_of)

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one thread is faster, and immune to other processes holding the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


TINY_SLIM = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 7, 8, 5],
             "esa_channels": 4}
TINY_RLFN = {"arch": "rlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 7, 8, 5],
             "esa_channels": 4}


def random_removal(model, kinds, count=2, seed=0):
    """``count`` random channels of every unit of the given kinds (each subgroup its own)."""
    generator = torch.Generator().manual_seed(seed)
    groups = ChannelGroups(model)
    wanted = {u.name for u in units_of(config_of(model), kinds)}
    return {unit: [sorted(torch.randperm(s.size, generator=generator)[:count].tolist()) for s in subs]
            for unit, subs in groups.subgroups.items() if unit in wanted}


# --------------------------------------------------------------------------- surgery


@pytest.mark.parametrize("config", [TINY_SLIM, TINY_RLFN], ids=["slimrlfn", "rlfn"])
@pytest.mark.parametrize("kinds", [["inner"], ["esa"], ["feature"], ["inner", "esa", "feature"]],
                         ids=["inner", "esa", "feature", "all"])
def test_surgery_equals_the_masked_model(config, kinds):
    torch.manual_seed(0)
    model = build_model(config).eval()
    removal = random_removal(model, kinds)
    pruned, masked = prune_model(model, removal).eval(), mask_model(model, removal).eval()
    x = torch.rand(2, 3, 17, 19) * 255
    with torch.no_grad():
        out_pruned, out_masked, out_full = pruned(x), masked(x), model(x)
    assert out_pruned.shape == out_full.shape
    torch.testing.assert_close(out_pruned, out_masked, atol=2e-3, rtol=1e-4)
    assert not torch.allclose(out_pruned, out_full, atol=1e-2)  # something was really removed
    before, after = unit_widths(config), unit_widths(config_of(pruned))
    for unit in before:
        assert after[unit] == before[unit] - (2 if unit in removal else 0), unit
    assert sum(p.numel() for p in pruned.parameters()) < sum(p.numel() for p in model.parameters())


def test_dependency_groups_match_the_architecture():
    """Inner widths: one group each; ESA: 2 groups (SlimRLFN) or 3 (RLFN, conv_f); features: one per block boundary."""
    slim = ChannelGroups(build_model(TINY_SLIM)).subgroups
    rlfn = ChannelGroups(build_model(TINY_RLFN)).subgroups
    assert sorted(slim) == sorted(u.name for u in units_of(TINY_SLIM))
    assert [len(slim[u]) for u in ("b1.c1_r", "b1.c2_r", "b2.esa", "features")] == [1, 1, 2, 3]
    assert [len(rlfn[u]) for u in ("b1.c1_r", "b1.esa", "features")] == [1, 3, 3]
    assert [s.size for s in slim["b2.c2_r"]] == [5]


def test_pruned_config_round_trips_through_a_checkpoint(tmp_path):
    torch.manual_seed(1)
    model = build_model(TINY_SLIM).eval()
    removal = random_removal(model, ["inner", "feature"], count=1)
    removal["b2.esa"] = [[0], [3]]  # the ESA width of block 2 only: per-block ESA widths
    pruned = prune_model(model, removal).eval()
    config = config_of(pruned)
    assert config["esa_channels"] == [4, 3] and config["feature_channels"] == 7
    assert validate_config(config) == config
    path = save_checkpoint(pruned, tmp_path / "pruned.pth")
    again, loaded_config = load_checkpoint(path)
    assert loaded_config == config
    from slimrlfn.checkpoints import infer_config

    assert infer_config(pruned.state_dict()) == config  # also without the JSON beside it
    x = torch.rand(1, 3, 16, 16) * 255
    with torch.no_grad():
        assert torch.equal(pruned(x), again(x))


def test_uniform_esa_list_is_stored_as_one_width():
    assert validate_config({**TINY_SLIM, "esa_channels": [4, 4]})["esa_channels"] == 4
    with pytest.raises(ValueError, match="esa_channels"):
        validate_config({**TINY_SLIM, "esa_channels": [4, 4, 4]})
    assert config_with_widths(TINY_SLIM, {"b1.esa": 3, "b2.c1_r": 2})["esa_channels"] == [3, 4]


def test_inner_pruned_model_loads_into_the_official_layout_strictly():
    torch.manual_seed(2)
    model = build_model({"arch": "slimrlfn"}).eval()  # the official SlimRLFN architecture
    groups = ChannelGroups(model)
    removal = {u: [lowest(s, 2) for s in scores] for u, scores in channel_scores(groups, "l1").items()
               if u in ("b1.c1_r", "b3.c2_r", "b5.c1_r")}
    pruned = prune_model(model, removal).eval()
    config = config_of(pruned)
    official = SlimRLFN(prune_channels=config["prune_channels"]).eval()  # the official constructor
    official.load_state_dict(pruned.state_dict(), strict=True)
    assert list(official.state_dict()) == list(pruned.state_dict())
    x = torch.rand(1, 3, 16, 16) * 255
    with torch.no_grad():
        assert torch.equal(official(x), pruned(x))


# --------------------------------------------------------------------------- criteria


def handmade_model():
    """One block; c1_r channel 0: 36 weights of 0.1 (L1 3.6, L2^2 0.36); channel 1: one weight 1.5
    (L1 1.5, L2^2 2.25); channels 2 and 3: all 1.0."""
    model = build_model({"arch": "slimrlfn", "feature_channels": 4, "num_blocks": 1, "prune_channels": [4, 4],
                         "esa_channels": 2}).eval()
    with torch.no_grad():
        weight = model.block_list[0].c1_r.weight
        weight.fill_(1.0)
        weight[0].fill_(0.1)
        weight[1].zero_()
        weight[1, 0, 1, 1] = 1.5
    return model


def test_l1_and_l2_filter_norms_rank_as_computed_by_hand():
    groups = ChannelGroups(handmade_model())
    l1 = channel_scores(groups, "l1", reduction="first")["b1.c1_r"][0]
    l2 = channel_scores(groups, "l2", reduction="first")["b1.c1_r"][0]
    assert lowest(l1, 1) == [1] and lowest(l2, 1) == [0]
    assert float(l1[0] / l1[1]) == pytest.approx(3.6 / 1.5)
    assert float(l2[1] / l2[0]) == pytest.approx(2.25 / 0.36)  # TP's p=2 score is the sum of squares
    group_l1 = channel_scores(groups, "l1", reduction="mean")["b1.c1_r"][0]
    assert float(group_l1.mean()) == pytest.approx(1.0)  # normalised by the group's mean


def test_taylor_ranks_by_weight_times_gradient():
    model = handmade_model()
    groups = ChannelGroups(model)
    for param in model.parameters():
        param.grad = torch.ones_like(param)
    weight = model.block_list[0].c1_r.weight
    weight.grad[2].zero_()  # channel 2: large weights, no gradient -> least important to first order
    taylor = channel_scores(groups, "taylor", reduction="first")["b1.c1_r"][0]
    assert lowest(taylor, 1) == [2]
    assert lowest(channel_scores(groups, "l1", reduction="first")["b1.c1_r"][0], 1) == [1]


def test_taylor_without_gradients_is_refused_and_random_is_seeded():
    groups = ChannelGroups(handmade_model())
    with pytest.raises(ValueError, match="gradients"):
        channel_scores(groups, "taylor")
    a, b = channel_scores(groups, "random", seed=3), channel_scores(groups, "random", seed=3)
    c = channel_scores(groups, "random", seed=4)
    assert torch.equal(a["b1.c1_r"][0], b["b1.c1_r"][0])
    assert not torch.equal(a["b1.c1_r"][0], c["b1.c1_r"][0])


# --------------------------------------------------------------------------- planning


def test_per_layer_plan_keeps_multiples_and_minimums():
    widths = {"a": 30, "b": 29, "c": 9}
    scores = {u: [torch.ones(w)] for u, w in widths.items()}
    counts, _ = plan_counts(widths, scores, {"a": 8, "b": 8, "c": 8}, k=2, multiple_of=4)
    assert counts == {"a": 2, "b": 5, "c": 1}  # 28, 24, 8: multiples of 4, none below 8


def test_global_plan_takes_the_cheapest_channels_across_units():
    widths = {"a": 4, "b": 4}
    scores = {"a": [torch.tensor([0.1, 0.2, 5.0, 5.0])], "b": [torch.tensor([0.15, 3.0, 3.0, 3.0])]}
    counts, table = plan_counts(widths, scores, {"a": 1, "b": 1}, k=3, rank="global")
    assert counts == {"a": 2, "b": 1}
    assert [row["unit"] for row in table] == ["a", "b", "a"]


def test_latency_aware_plan_prefers_time_saved_per_importance():
    widths = {"a": 8, "b": 8}
    scores = {"a": [torch.ones(8)], "b": [torch.ones(8) * 2]}
    saved = {"a": 0.1, "b": 5.0}
    counts, table = plan_counts(widths, scores, {"a": 1, "b": 1}, k=2, latency_saved=lambda u, c: saved[u])
    assert counts == {"b": 2} and [r["unit"] for r in table if r.get("chosen")] == ["b"]
    counts, _ = plan_counts(widths, scores, {"a": 1, "b": 1}, k=2, latency_saved=lambda u, c: -1.0)
    assert counts == {"a": 2}  # nothing measurably faster: the least important


def test_ntire_score_formula():
    assert ntire_score(10.0, 19.675, 0.3172, 10.0, 19.675, 0.3172) == pytest.approx(math.exp(2))
    value = ntire_score(5.0, 9.8375, 0.1586, 10.0, 19.675, 0.3172)
    assert value == pytest.approx(math.e)  # half of RLFN everywhere: exp(1)
    assert ntire_score(6.0, 10.0, 0.2, 10.0, 20.0, 0.4) == pytest.approx(
        0.7 * math.exp(1.2) + 0.15 * math.exp(1.0) + 0.15 * math.exp(1.0))


# --------------------------------------------------------------------------- the schedule


@pytest.fixture
def start_checkpoint(tmp_path):
    torch.manual_seed(0)
    return str(save_checkpoint(build_model(TINY_SLIM).eval(), tmp_path / "start" / "tiny.pth"))


def settings(start, data, out, **overrides):
    values = dict(model=start, out_dir=str(out), val_dir=str(data), hr_dirs=[str(data / "DIV2K_LSDIR_valid_HR")],
                  criterion="l1", scope=["inner"], channels_per_step=1, max_steps=2, finetune_iterations=2,
                  batch_size=2, lr_patch=16, taylor_batches=1, latency_size=16, latency_runs=2, latency_warmup=1,
                  device="cpu", progress=False)
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
    from slimrlfn.cli import main as cli_main

    status = cli_main(["eval", "--checkpoint", summary["final_checkpoint"], "--data_dir", str(tiny_pairs),
                       "--save_dir", str(tmp_path / "eval"), "--device", "cpu", "--no_images"])
    assert status == 0
    entry = json.loads((tmp_path / "eval" / "results.json").read_text())["final"]
    assert entry["valid_ave_psnr"] == pytest.approx(records[2]["psnr_after"], abs=1e-6)


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
    import slimrlfn.prune_schedule as schedule

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
    import slimrlfn.prune_measure as measure
    import slimrlfn.prune_schedule as schedule

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


# --------------------------------------------------------------------------- bad input


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
    from slimrlfn.prune import main

    status = main(["--model", start_checkpoint, "--val_dir", str(tiny_pairs), "--out_dir", str(tmp_path / "run"),
                   "--finetune_iterations", "0", "--channels_per_step", "9", "--max_steps", "1", "--device", "cpu",
                   "--latency_size", "16", "--no_progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("slimrlfn: error: --channels_per_step 9")
