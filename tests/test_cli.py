"""Bad input through the command line: one line naming the file or argument, exit 2, nothing half-written."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.cli import main
from slimrlfn.data.images import write_image


@pytest.fixture
def tiny_checkpoint(tmp_path):
    torch.manual_seed(0)
    return save_checkpoint(build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}), tmp_path / "tiny.pth")


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.err.strip()


def assert_one_line_error(code, err, *needles):
    """Exit 2; the last line of stderr is the only error line (progress-bar refreshes may precede it)."""
    assert code == 2
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    assert errors == [lines[-1]] and lines[-1].startswith("slimrlfn: error:"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[-1], err


def test_eval_writes_results(capsys, tiny_pairs, tiny_checkpoint, tmp_path):
    code = main(["eval", "--checkpoint", str(tiny_checkpoint), "--data_dir", str(tiny_pairs),
                 "--save_dir", str(tmp_path / "out"), "--device", "cpu", "--include_test", "--ssim"])
    assert code == 0
    assert "tiny" in json.loads((tmp_path / "out" / "results.json").read_text())
    assert "tiny" in capsys.readouterr().out


def test_python_m_slimrlfn_evaluate_is_the_same_command(tiny_pairs, tiny_checkpoint, tmp_path):
    done = subprocess.run([sys.executable, "-m", "slimrlfn.evaluate", "--checkpoint", str(tiny_checkpoint),
                           "--data_dir", str(tiny_pairs), "--save_dir", str(tmp_path / "out"), "--device", "cpu"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "tiny" / "valid" / "a.png").is_file()


def test_missing_data_dir(capsys, tiny_checkpoint, tmp_path):
    assert_one_line_error(*run_cli(capsys, "eval", "--checkpoint", str(tiny_checkpoint), "--data_dir",
                                   str(tmp_path / "nowhere"), "--save_dir", str(tmp_path / "out")),
                          "--data_dir", "no such folder")
    assert not (tmp_path / "out").exists()


def test_no_pairs_names_the_patterns(capsys, tiny_checkpoint, tmp_path):
    (tmp_path / "empty").mkdir()
    assert_one_line_error(*run_cli(capsys, "eval", "--checkpoint", str(tiny_checkpoint), "--data_dir",
                                   str(tmp_path / "empty"), "--save_dir", str(tmp_path / "out")),
                          "DIV2K_LSDIR_valid_HR/*.png", "LSDIR_DIV2K_valid_HR/*.png")


def test_lr_without_hr(capsys, tiny_pairs, tiny_checkpoint, tmp_path):
    (tiny_pairs / "DIV2K_LSDIR_valid_HR" / "a.png").unlink()
    assert_one_line_error(*run_cli(capsys, "eval", "--checkpoint", str(tiny_checkpoint), "--data_dir",
                                   str(tiny_pairs), "--save_dir", str(tmp_path / "out")), "ax4.png has no HR")


def test_hr_size_mismatch_and_nothing_half_written(capsys, tiny_pairs, tiny_checkpoint, tmp_path):
    write_image(tiny_pairs / "DIV2K_LSDIR_valid_HR" / "b.png", np.zeros((40, 40, 3), np.uint8))
    assert_one_line_error(*run_cli(capsys, "eval", "--checkpoint", str(tiny_checkpoint), "--data_dir",
                                   str(tiny_pairs), "--save_dir", str(tmp_path / "out")), "b.png", "expected 96x80")
    assert not (tmp_path / "out" / "results.json").exists()
    assert not list((tmp_path / "out").glob("*/valid/*.png"))


def test_corrupt_image(capsys, tiny_pairs, tiny_checkpoint, tmp_path):
    (tiny_pairs / "DIV2K_LSDIR_valid_LR" / "bx4.png").write_bytes(b"garbage")
    assert_one_line_error(*run_cli(capsys, "eval", "--checkpoint", str(tiny_checkpoint), "--data_dir",
                                   str(tiny_pairs), "--save_dir", str(tmp_path / "out")), "bx4.png", "cannot be decoded")


def test_lr_too_small(capsys, tiny_pairs, tiny_checkpoint, tmp_path):
    write_image(tiny_pairs / "DIV2K_LSDIR_valid_LR" / "ax4.png", np.zeros((10, 10, 3), np.uint8))
    assert_one_line_error(*run_cli(capsys, "eval", "--checkpoint", str(tiny_checkpoint), "--data_dir",
                                   str(tiny_pairs), "--save_dir", str(tmp_path / "out")), "ax4.png", "15x15")


def test_checkpoint_that_does_not_fit_suggests_prune_channels(capsys, tiny_pairs, tmp_path):
    pruned = build_model({"arch": "slimrlfn", "prune_channels": [28] * 10 + [30, 30]})
    path = save_checkpoint(pruned, tmp_path / "pruned.pth")
    (tmp_path / "plain.json").write_text(json.dumps({"config": {"arch": "slimrlfn"}}))
    assert_one_line_error(*run_cli(capsys, "eval", "--checkpoint", str(path), "--config", str(tmp_path / "plain.json"),
                                   "--data_dir", str(tiny_pairs), "--save_dir", str(tmp_path / "out")),
                          "pruned.pth", "shape mismatches", "prune_channels=[28, 28")


def test_sha256_mismatch(capsys, tiny_pairs, tmp_path):
    bad = tmp_path / "team21_slimrlfn.pth"
    bad.write_bytes(b"not the official file")
    assert_one_line_error(*run_cli(capsys, "eval", "--model", "slimrlfn", "--zoo_path", str(bad), "--data_dir",
                                   str(tiny_pairs), "--save_dir", str(tmp_path / "out")), "sha256", "team21_slimrlfn.pth")


def test_unknown_model_is_one_line(capsys):
    assert_one_line_error(*run_cli(capsys, "eval", "--model", "edsr"), "--model", "edsr")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(capsys, tiny_pairs, tiny_checkpoint, tmp_path):
    assert_one_line_error(*run_cli(capsys, "eval", "--checkpoint", str(tiny_checkpoint), "--data_dir", str(tiny_pairs),
                                   "--save_dir", str(tmp_path / "out"), "--device", "cuda"), "--device cuda", "CUDA")


def test_data_pairs_and_sample_commands(capsys, tmp_path):
    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "x.png", np.full((33, 41, 3), 9, np.uint8))
    assert main(["data", "pairs", "--hr_dir", str(hr), "--out_dir", str(tmp_path / "pairs")]) == 0
    assert (tmp_path / "pairs" / "DIV2K_LSDIR_valid_LR" / "xx4.png").is_file()
    assert_one_line_error(*run_cli(capsys, "data", "pairs", "--hr_dir", str(tmp_path / "none"), "--out_dir",
                                   str(tmp_path / "p2")), "--hr_dir")


def test_profile_command_prints_the_challenge_flops(capsys, tmp_path):
    assert main(["profile", "--checkpoint", str(save_checkpoint(build_model({"arch": "slimrlfn"}), tmp_path / "s.pth")),
                 "--json", str(tmp_path / "counts.json")]) == 0
    assert "11.9912" in capsys.readouterr().out
    assert json.loads((tmp_path / "counts.json").read_text())[0]["num_conv"] == 51
