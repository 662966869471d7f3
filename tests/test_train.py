import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import textured_image
from slimrlfn.checkpoints import load_checkpoint, save_checkpoint
from slimrlfn.cli import main as cli_main
from slimrlfn.data import imresize_matlab, modcrop, read_image, write_image, write_pairs
from slimrlfn.errors import UserError
from slimrlfn.losses import SRLoss, build_loss, load_teacher
from slimrlfn.models import build_model
from slimrlfn.reparam import build_train_model
from slimrlfn.train import (
    ModelEMA,
    _rng_state,
    _set_rng_state,
    load_config,
    main,
    train,
    warmup_cosine,
)
from slimrlfn.train_data import PatchDataset, ShardSampler, apply_symmetry, load_validation

TINY_MODEL = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 8, 8, 8],
              "esa_channels": 4}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one thread (OpenMP threads spin-waiting on a shared CPU cost more than they give)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def hr_dir(tmp_path) -> Path:
    folder = tmp_path / "hr"
    for i, (h, w) in enumerate([(96, 88), (72, 100), (80, 80)]):
        write_image(folder / f"img{i}.png", textured_image(h, w, i))
    return folder


@pytest.fixture
def val_dir(tmp_path) -> Path:
    root = tmp_path / "val"
    write_pairs([("v", textured_image(80, 72, 9))], root, "valid", progress=False)
    return root


def tiny(hr_dir, out_dir, **overrides):
    values = {"hr_dirs": [str(hr_dir)], "out_dir": str(out_dir), "model": dict(TINY_MODEL), "iterations": 6,
              "batch_size": 2, "lr_patch": 16, "teacher": "none", "workers": 0, "warmup": 2, "log_every": 2,
              "val_every": 100, "ckpt_every": 100, "progress": False}
    values.update(overrides)
    return load_config(None, values)


def train_state(out_dir):
    return torch.load(Path(out_dir) / "train_state.pt", map_location="cpu", weights_only=True)


# -- configuration ------------------------------------------------------------------------------


def test_config_file_flags_and_sets(tmp_path):
    (tmp_path / "c.yaml").write_text("hr_dirs: [a]\nlr: 1.0e-3\nmodel: {arch: slimrlfn, num_blocks: 2}\nema_decay: 0.9\n")
    config = load_config(tmp_path / "c.yaml", {"iterations": 7, "loss": None},
                         ["lr=2e-4", "model.feature_channels=16", "teacher=none", "use_edge=true", "betas=[0.9,0.999]"])
    assert config.hr_dirs == ["a"] and config.iterations == 7 and config.lr == 2e-4 and config.ema_decay == 0.9
    assert config.model == {"arch": "slimrlfn", "num_blocks": 2, "feature_channels": 16}
    assert config.teacher is None and config.use_edge is True and config.betas == [0.9, 0.999]
    (tmp_path / "c.json").write_text(json.dumps({"batch_size": 3}))
    assert load_config(tmp_path / "c.json").batch_size == 3


@pytest.mark.parametrize("sets, match", [
    (["learning_rate=1"], "unknown config key 'learning_rate'"),
    (["iterations=ten"], "config key 'iterations': expected int"),
    (["use_edge=maybe"], "config key 'use_edge'"),
    (["lr"], "expected key=value"),
    (["batch_size=0"], "'batch_size': expected a positive integer"),
])
def test_bad_config_values(sets, match):
    with pytest.raises(UserError, match=match):
        load_config(None, None, sets)


def test_warmup_cosine():
    factor = warmup_cosine(iterations=110, warmup=10, lr=1e-3, min_lr=1e-5)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(10) == pytest.approx(1.0) and factor(60) == pytest.approx(0.505)
    assert factor(110) == pytest.approx(0.01) and factor(500) == pytest.approx(0.01)


# -- losses -------------------------------------------------------------------------------------


def test_losses_on_known_values():
    a, b = torch.tensor([0.0, 3.0]), torch.tensor([1.0, 1.0])
    assert build_loss("l1")(a, b).item() == pytest.approx(1.5)
    assert build_loss("L2")(a, b).item() == pytest.approx(2.5)
    assert build_loss("charbonnier", eps=0.0)(a, b).item() == pytest.approx(1.5)
    assert build_loss("charbonnier", eps=1.0)(a, a).item() == pytest.approx(1.0)
    sr, hr, teacher = torch.full((1, 1, 2, 2), 255.0), torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 127.5)
    total, terms = SRLoss("l1", None, 0.5)(sr, hr, teacher)
    assert terms["pixel"].item() == pytest.approx(1.0) and terms["distill"].item() == pytest.approx(0.5)
    assert total.item() == pytest.approx(1.25)


def test_unknown_loss_and_teacher():
    with pytest.raises(UserError, match="--loss 'l3': unknown loss; expected one of l1, charbonnier, l2"):
        SRLoss("l3")
    with pytest.raises(UserError, match="--teacher 'swinir': unknown teacher"):
        load_teacher("swinir", 4, torch.device("cpu"))
    with pytest.raises(UserError, match="no such file"):
        load_teacher("missing/teacher.pth", 4, torch.device("cpu"))


def test_checkpoint_teacher_is_frozen(tmp_path):
    path = save_checkpoint(build_model(TINY_MODEL), tmp_path / "t.pth")
    teacher, label = load_teacher(str(path), 4, torch.device("cpu"))
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters()) and label == str(path)
    save_checkpoint(build_model({**TINY_MODEL, "upscale": 2}), tmp_path / "x2.pth")
    with pytest.raises(UserError, match="upscales x2, the student x4"):
        load_teacher(str(tmp_path / "x2.pth"), 4, torch.device("cpu"))


# -- data ---------------------------------------------------------------------------------------


def _is_aligned_crop(dataset, lr, hr) -> bool:
    """Some source image holds ``lr`` at (top, left) and ``hr`` at (4 top, 4 left)."""
    for source in dataset.sources:
        for top in range(source.lr.shape[0] - 15):
            for left in range(source.lr.shape[1] - 15):
                if (source.lr[top:top + 16, left:left + 16] == lr).all():
                    return bool((source.hr[4 * top:4 * top + 64, 4 * left:4 * left + 64] == hr).all())
    return False


def test_patches_are_aligned_crops_of_the_whole_image_lr(hr_dir):
    dataset = PatchDataset([hr_dir], scale=4, lr_patch=16, seed=1, augment=False)
    assert (dataset.sources[0].lr == imresize_matlab(modcrop(read_image(hr_dir / "img0.png"), 4), scale=0.25)).all()
    for index in range(8):
        lr, hr = dataset[index]
        assert lr.shape == (3, 16, 16) and hr.shape == (3, 64, 64) and lr.dtype == torch.float32
        assert _is_aligned_crop(dataset, lr.permute(1, 2, 0).numpy(), hr.permute(1, 2, 0).numpy()), index
    assert torch.equal(dataset[5][0], dataset[5][0])  # a pure function of (seed, index)
    assert not torch.equal(dataset[5][0], PatchDataset([hr_dir], 4, 16, seed=2)[5][0])


def test_symmetries_and_disk_cache_give_the_same_patches(hr_dir, tmp_path):
    grid = np.arange(12).reshape(2, 2, 3)
    shapes = {apply_symmetry(grid, code).tobytes() for code in range(8)}
    assert len(shapes) == 8
    memory = PatchDataset([hr_dir], 4, 16, seed=3)
    disk = PatchDataset([hr_dir], 4, 16, seed=3, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*x4.png"))) == 3
    for index in range(6):
        assert all(torch.equal(a, b) for a, b in zip(memory[index], disk[index]))


def test_shards_are_disjoint_and_resume_continues_the_stream():
    ranks = [list(ShardSampler(3, 0, 4, rank, 2)) for rank in range(2)]
    assert not set(ranks[0]) & set(ranks[1]) and sorted(ranks[0] + ranks[1]) == list(range(24))
    assert list(ShardSampler(3, 0, 4)) == list(ShardSampler(3, 0, 2)) + list(ShardSampler(3, 2, 4))
    assert len(ShardSampler(3, 1, 4)) == 9


def test_bad_training_folders(tmp_path, hr_dir):
    with pytest.raises(UserError, match="--hr_dir .*nowhere: no such folder"):
        PatchDataset([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="--hr_dir .*empty: no images"):
        PatchDataset([tmp_path / "empty"])
    write_image(hr_dir / "small.png", textured_image(40, 90, 7))
    with pytest.warns(UserWarning, match=r"skipped 1 of 4 training images .* small.png \(88x40\)"):
        dataset = PatchDataset([hr_dir], 4, 16)
    assert len(dataset.sources) == 3
    with pytest.raises(UserError, match=r"no image is large enough.*img0.png \(88x96\)"):
        PatchDataset([hr_dir], 4, 32)
    with pytest.raises(UserError, match="--lr_patch 8"):
        PatchDataset([hr_dir], 4, 8)


def test_load_validation(val_dir):
    images = load_validation(val_dir)
    assert [i.name for i in images] == ["v"] and images[0].hr.shape == (80, 72, 3) and images[0].lr.shape == (20, 18, 3)


# -- state --------------------------------------------------------------------------------------


def test_rng_state_survives_weights_only(tmp_path):
    state = _rng_state(torch.device("cpu"))
    torch.save(state, tmp_path / "rng.pt")
    expected = (np.random.rand(), torch.rand(1).item(), __import__("random").random())
    _set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True), torch.device("cpu"))
    assert (np.random.rand(), torch.rand(1).item(), __import__("random").random()) == expected


def test_ema_tracks_the_model():
    model = build_train_model(TINY_MODEL)
    ema = ModelEMA(model, decay=0.5)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    before = next(ema.module.parameters()).clone()
    ema.update(model)  # first update: decay min(0.5, 2/11)
    assert torch.allclose(next(ema.module.parameters()), before + 9 / 11)
    assert not next(ema.module.parameters()).requires_grad


# -- runs ---------------------------------------------------------------------------------------


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
    status = cli_main(["eval", "--checkpoint", str(out / "model_final.pth"), "--data_dir", str(val_dir),
                       "--save_dir", str(tmp_path / "eval"), "--no_images", "--device", "cpu"])
    assert status == 0
    results = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert results["model_final"]["valid_ave_psnr"] == pytest.approx(summary["val_psnr"], abs=1e-6)
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


# -- bad inputs ---------------------------------------------------------------------------------


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
    status = main(["--hr_dir", str(hr_dir), "--out_dir", str(tmp_path / "run"), "--loss", "l3", "--no_progress",
                   "--set", "teacher=none"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and err.startswith("slimrlfn: error: --loss 'l3'")
    assert not (tmp_path / "run").exists()
    status = main(["--hr_dir", str(hr_dir), "--out_dir", str(tmp_path / "ok"), "--iterations", "1", "--no_progress",
                   "--batch_size", "1", "--lr_patch", "16", "--teacher", "none", "--workers", "1",
                   "--set", "model=" + json.dumps(TINY_MODEL)])
    assert status == 0 and (tmp_path / "ok" / "model_final.pth").is_file()


# -- two processes --------------------------------------------------------------------------------


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
