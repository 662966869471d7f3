"""slimrlfn train: a fused model that eval loads, exact resume, Ctrl-C, distillation, AMP, DDP with Gloo, bad input before anything is written."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from slimrlfn.arch.checkpoints import load_checkpoint, save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.cli import main as cli_main
from slimrlfn.core.errors import UserError
from slimrlfn.train.config import load_config
from slimrlfn.train.run import train

TINY_MODEL = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 8, 8, 8],
              "esa_channels": 4}


def tiny(hr_dir, out_dir, **overrides):
    values = {"hr_dirs": [str(hr_dir)], "out_dir": str(out_dir), "model": dict(TINY_MODEL), "iterations": 6,
              "batch_size": 2, "lr_patch": 16, "teacher": "none", "workers": 0, "warmup": 2, "log_every": 2,
              "val_every": 100, "ckpt_every": 100, "progress": False}
    values.update(overrides)
    return load_config(None, values)


def train_state(out_dir):
    return torch.load(Path(out_dir) / "train_state.pt", map_location="cpu", weights_only=True)


def test_run_writes_a_fused_model_that_eval_loads(hr_dir, val_dir, tmp_path, capsys):
    config = tiny(hr_dir, tmp_path / "run", val_dir=str(val_dir), ckpt_every=3, val_every=3, ema_decay=0.9)
    summary = train(config)
    out = tmp_path / "run"
    assert summary["completed"] and summary["iteration"] == 6
    assert [h["iteration"] for h in summary["history"]] == [0, 3, 6]
    assert (out / "checkpoints" / "iter_0000003.pth").is_file() and (out / "train.log").read_text().count("iteration") > 3
    model, config_read = load_checkpoint(out / "model_final.pth")
    assert config_read["prune_channels"] == TINY_MODEL["prune_channels"] and type(model).__name__ == "SlimRLFN"
    assert json.loads((out / "history.json").read_text())[-1]["psnr"] == pytest.approx(summary["val_psnr"])
    # The training validation runs the fused model eagerly; eval does the same with --backend eager: the same weights,
    # forward, uint8 rounding and PSNR formula, so the same float64. (The default CPU path, OpenVINO, differs from
    # eager by up to its 1e-3 tolerance on [0, 255]: an SR value that close to .5 rounds the other way, and one
    # such value moves this one-image PSNR by about 1e-5 dB, so a 1e-6 dB comparison of the two paths held by luck.)
    status = cli_main(["eval", "--checkpoint", str(out / "model_final.pth"), "--data_dir", str(val_dir),
                       "--save_dir", str(tmp_path / "eval"), "--no_images", "--device", "cpu", "--backend", "eager"])
    assert status == 0
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert results["model_final"]["backend_info"]["backend"] == "eager"
    assert results["model_final"]["valid_ave_psnr"] == summary["val_psnr"]
    state = train_state(out)
    assert state["iteration"] == 6 and state["ema"] is not None and isinstance(state["rng"]["torch"], torch.Tensor)


def test_resume_reproduces_an_uninterrupted_run(hr_dir, tmp_path):
    common = dict(ema_decay=0.8, use_edge=True, online_fusion=False)  # the branch-by-branch forward too
    train(tiny(hr_dir, tmp_path / "straight", **common))
    train(tiny(hr_dir, tmp_path / "split", stop_at=3, **common))
    assert train_state(tmp_path / "split")["iteration"] == 3
    assert not (tmp_path / "split" / "model_final.pth").exists()
    summary = train(tiny(hr_dir, tmp_path / "split", resume="auto", **common))
    assert summary["completed"]
    straight, split = train_state(tmp_path / "straight"), train_state(tmp_path / "split")
    for key in ("model",):
        assert straight[key].keys() == split[key].keys()
        assert all(torch.equal(v, split[key][k]) for k, v in straight[key].items())
    assert all(torch.equal(v, split["ema"]["module"][k]) for k, v in straight["ema"]["module"].items())
    assert straight["scheduler"]["last_epoch"] == split["scheduler"]["last_epoch"] == 6


def test_ctrl_c_saves_a_state_that_resumes_exactly(hr_dir, tmp_path):
    train(tiny(hr_dir, tmp_path / "straight"))

    def interrupt(iteration, terms):
        if iteration == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny(hr_dir, tmp_path / "stopped"), callback=interrupt)
    assert train_state(tmp_path / "stopped")["iteration"] == 4
    assert (tmp_path / "stopped" / "checkpoints" / "iter_0000004.pth").is_file()
    train(tiny(hr_dir, tmp_path / "stopped", resume="auto"))
    straight, resumed = train_state(tmp_path / "straight")["model"], train_state(tmp_path / "stopped")["model"]
    assert all(torch.equal(v, resumed[k]) for k, v in straight.items())


def test_distillation_from_a_checkpoint_teacher(hr_dir, tmp_path):
    teacher_path = save_checkpoint(build_model(TINY_MODEL), tmp_path / "teacher.pth")
    before = {k: v.clone() for k, v in load_checkpoint(teacher_path)[0].state_dict().items()}
    summary = train(tiny(hr_dir, tmp_path / "run", teacher=str(teacher_path), distill_weight=0.5, iterations=2))
    assert summary["completed"]
    assert "distill" in (tmp_path / "run" / "train.log").read_text()
    after = load_checkpoint(teacher_path)[0].state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())


def test_init_from_the_official_slimrlfn_with_the_rlfn_teacher(official_zoo, hr_dir, tmp_path):
    summary = train(tiny(hr_dir, tmp_path / "run", init="slimrlfn_prune", teacher="rlfn", model={"arch": "slimrlfn"},
                         iterations=1, lr=1e-9, min_lr=0.0, warmup=0))
    config = json.loads((tmp_path / "run" / "model_final.json").read_text())["config"]
    assert config["prune_channels"] == [28] * 10 + [30, 30] and summary["completed"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_amp_on_cuda(hr_dir, tmp_path):
    for dtype in ("bf16", "fp16"):
        summary = train(tiny(hr_dir, tmp_path / dtype, device="cuda", amp_dtype=dtype, iterations=2))
        assert summary["completed"] and summary["device_info"]["device_type"] == "cuda"


def snapshot(folder):
    return {p: p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


def test_bad_inputs_stop_before_writing(hr_dir, tmp_path):
    out = tmp_path / "run"
    for overrides, match in [
        ({"loss": "l3"}, "--loss 'l3': unknown loss"),
        ({"teacher": "swinir"}, "--teacher 'swinir': unknown teacher"),
        ({"hr_dirs": [str(tmp_path / "nowhere")]}, "no such folder"),
        ({"lr_patch": 64}, "no image is large enough"),
        ({"resume": str(tmp_path / "missing.pt")}, "no such file"),
    ]:
        with pytest.raises(UserError, match=match):
            train(tiny(hr_dir, out, **overrides))
        assert not out.exists()


def test_resume_from_another_architecture_changes_nothing(hr_dir, tmp_path):
    out = tmp_path / "run"
    train(tiny(hr_dir, out, iterations=2))
    before = snapshot(out)
    with pytest.raises(UserError, match=r"--resume .*train_state.pt: the checkpoint is a slimrlfn features=8 .*"
                                        r"this run builds a slimrlfn features=8 blocks=2 prune_channels=\[8, 8, 8, 8\]"):
        train(tiny(hr_dir, out, iterations=4, resume="auto", model={**TINY_MODEL, "prune_channels": [8] * 4}))
    with pytest.raises(UserError, match="branches="):
        train(tiny(hr_dir, out, iterations=4, resume="auto", expand_ratio=0.0))
    with pytest.raises(UserError, match="already holds a run"):
        train(tiny(hr_dir, out, iterations=4))
    deploy = save_checkpoint(build_model(TINY_MODEL), tmp_path / "deploy.pth")
    with pytest.raises(UserError, match="not a training state written by slimrlfn train"):
        train(tiny(hr_dir, out, iterations=4, resume=str(deploy)))
    assert snapshot(out) == before


def test_command_line_prints_one_line_and_fails(hr_dir, tmp_path, capsys):
    status = cli_main(["train", "--hr_dir", str(hr_dir), "--out_dir", str(tmp_path / "run"), "--loss", "l3", "--no_progress",
                   "--set", "teacher=none"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and err.startswith("slimrlfn: error: --loss 'l3'")
    assert not (tmp_path / "run").exists()
    status = cli_main(["train", "--hr_dir", str(hr_dir), "--out_dir", str(tmp_path / "ok"), "--iterations", "1", "--no_progress",
                   "--batch_size", "1", "--lr_patch", "16", "--teacher", "none", "--workers", "1",
                   "--set", "model=" + json.dumps(TINY_MODEL)])
    assert status == 0 and (tmp_path / "ok" / "model_final.pth").is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_gloo_processes_keep_identical_replicas(hr_dir, tmp_path):
    config = tmp_path / "ddp.json"
    config.write_text(json.dumps({"hr_dirs": [str(hr_dir)], "out_dir": str(tmp_path / "ddp"), "model": TINY_MODEL,
                                  "iterations": 3, "batch_size": 2, "lr_patch": 16, "teacher": "none", "workers": 0,
                                  "warmup": 1, "progress": False, "use_edge": True}))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
               "--master_addr=127.0.0.1", f"--master_port={_free_port()}", "-m", "slimrlfn.train",
               "--config", str(config)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["iteration"] == 3
    assert summary["replica_max_abs_diff"] == 0.0
    assert result.stdout.count("trained to iteration 3") == 1  # one rank reports
    # the two shards of batch 2 are the patches one process draws with batch 4, and DDP averages the gradients
    train(tiny(hr_dir, tmp_path / "single", iterations=3, batch_size=4, warmup=1, use_edge=True))
    ddp, single = train_state(tmp_path / "ddp")["model"], train_state(tmp_path / "single")["model"]
    assert ddp.keys() == single.keys()
    assert all(torch.allclose(v, single[k], rtol=1e-4, atol=1e-6) for k, v in ddp.items())


def test_a_second_training_run_into_the_same_output_is_refused_at_once(hr_dir, tmp_path):
    from slimrlfn.core.locks import output_lock

    with output_lock(tmp_path / "run", "--out_dir"):
        with pytest.raises(UserError, match="--out_dir .*run: another run is writing there right now"):
            train(tiny(hr_dir, tmp_path / "run"))
        assert not any((tmp_path / "run").iterdir()), "the refused run wrote nothing"
