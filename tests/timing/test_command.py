"""slimrlfn time: every sample written, bad input in one line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from slimrlfn import cli
from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.data.pairs import write_pairs
from tests.helpers import LOADING_2024, textured_image

TINY = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}


@pytest.fixture
def tiny_ckpt(tmp_path) -> str:
    torch.manual_seed(0)
    return str(save_checkpoint(build_model(TINY), tmp_path / "tiny.pth"))


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
    (["--models", "nope"], "--models 'nope': unknown model"),
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


def test_cli_time_every_entry_of_the_2024_repository(esr_repo, tmp_path, capsys):
    """All 15 entries that load, timed in one process on two small images; the 20 others named on stderr."""
    data = tmp_path / "data"
    write_pairs([("a", textured_image(96, 96, 1)), ("b", textured_image(96, 128, 2))], data, "valid", progress=False)
    out = tmp_path / "t.json"
    assert cli.main(["time", "--challenge_repo", str(esr_repo), "--data_dir", str(data), "--scenario", "consecutive",
                     "--in_process", "--runs", "1", "--device", "cpu", "--threads", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("slimrlfn: skipped entry") == 20 and "mamba_ssm" in err
    saved = json.loads(out.read_text())
    assert len(saved["models"]) == len(LOADING_2024)
    assert all(r["status"] == "ok" and len(r["samples"]) == 2 for r in saved["records"])
