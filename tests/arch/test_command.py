"""slimrlfn models (every entry of a challenge repository) and the model flags of every command: a user's
class, a challenge entry, and each bad input as one line with exit 2."""
from __future__ import annotations

import json

import pytest

from slimrlfn.cli import main
from tests.helpers import write_user_model


@pytest.fixture
def user_model(tmp_path):
    return write_user_model(tmp_path / "mine" / "tiny_sr.py")


def test_models_lists_every_entry_with_why_not(fake_repo, capsys):
    assert main(["models", "--challenge_repo", str(fake_repo)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "test_demo.py: 9 entries, 4 load;" in lines[0]
    rows = {int(line.split()[0]): line for line in lines[2:]}
    assert "00_Tiny" in rows[0] and "255" in rows[0] and "0.0013" in rows[0] and rows[0].endswith("ok")
    assert "no: missing file models/team01_Gone.py" in rows[1]
    assert "no: needs the Python package 'mamba_ssm', which runs on CUDA only" in rows[7]


def test_models_on_the_2024_repository(esr_repo, capsys):
    assert main(["models", "--challenge_repo", str(esr_repo), "--model_ids", "21", "38", "7"]) == 0
    out = capsys.readouterr().out
    assert "3 entries, 2 load" in out and "21_SlimRLFN" in out and "38_SPAN" in out and "mamba_ssm" in out


def test_eval_of_a_user_class_in_0_1(user_model, tiny_pairs, tmp_path, capsys):
    save = tmp_path / "out"
    assert main(["eval", "--model", f"{user_model}:TinySR", "--kwargs", '{"channels": 4}', "--data_dir",
                 str(tiny_pairs), "--save_dir", str(save), "--device", "cpu", "--backend", "eager"]) == 0
    entry = json.loads((save / "results.json").read_text())["TinySR"]
    assert entry["data_range"] == 1.0 and entry["kind"] == "class" and len(entry["valid_psnr"]) == 2
    assert (save / "TinySR" / "valid" / "a.png").is_file()


def test_eval_of_a_challenge_entry(fake_repo, tiny_pairs, tmp_path):
    save = tmp_path / "out"
    assert main(["eval", "--challenge_repo", str(fake_repo), "--model_id", "0", "--data_dir", str(tiny_pairs),
                 "--save_dir", str(save), "--device", "cpu", "--no_images"]) == 0
    entry = json.loads((save / "results.json").read_text())["00_Tiny"]
    assert entry["data_range"] == 255.0 and entry["kind"] == "challenge"


def test_profile_of_a_class_and_an_entry(user_model, fake_repo, tmp_path, capsys):
    assert main(["profile", "--models", f"{user_model}:TinySR", "--challenge_repo", str(fake_repo), "--model_ids", "0",
                 "--size", "32", "--json", str(tmp_path / "c.json")]) == 0
    out = capsys.readouterr().out
    rows = json.loads((tmp_path / "c.json").read_text())
    assert [r["model"] for r in rows] == ["TinySR", "00_Tiny"]
    # TinySR: conv 3->8 and 8->48 on 32x32 (fvcore: one FLOP per multiply-add)
    assert rows[0]["flops"] == pytest.approx((3 * 8 + 8 * 48) * 9 * 32 * 32 / 1e9)
    assert "TinySR: pixel_shuffle 1" in out and "complete" in out


def test_time_a_challenge_repository_skips_what_cannot_load(fake_repo, tiny_pairs, tmp_path, capsys):
    out = tmp_path / "t.json"
    assert main(["time", "--challenge_repo", str(fake_repo), "--data_dir", str(tiny_pairs), "--scenario",
                 "consecutive", "--in_process", "--runs", "1", "--device", "cpu", "--threads", "1",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "skipped entry 1: missing file models/team01_Gone.py" in err and "skipped entry 7" in err
    assert [m["label"] for m in json.loads(out.read_text())["models"]] == ["00_Tiny", "05_Partial", "06_CudaFuse", "08_OwnForward"]


def test_time_a_user_class_in_separate_processes(user_model, tiny_pairs, tmp_path):
    out = tmp_path / "t.json"
    assert main(["time", "--models", f"{user_model}:TinySR", "--data_dir", str(tiny_pairs), "--scenario", "separate",
                 "--runs", "1", "--device", "cpu", "--threads", "1", "--out", str(out)]) == 0
    records = json.loads(out.read_text())["records"]
    assert [r["status"] for r in records] == ["ok"] and len(records[0]["samples"]) == 2


BAD = [
    (["eval", "--model", "nowhere.py:Net"], "no such file nowhere.py"),
    (["eval", "--model", "{user}:Missing"], "no nn.Module class Missing"),
    (["eval", "--model", "{user}:TinySR", "--kwargs", "{bad"], "--kwargs"),
    (["eval", "--model", "{user}:TinySR", "--data_range", "3"], "--data_range 3"),
    (["eval", "--model", "{user}:Half"], "expected 1x3x256x256"),
    (["eval", "--challenge_repo", "{tmp}/nowhere", "--model_id", "0"], "no such folder"),
    (["eval", "--challenge_repo", "{repo}", "--model_id", "99"], "--model_id 99"),
    (["eval", "--challenge_repo", "{repo}", "--model_id", "1"], "entry 1: missing file models/team01_Gone.py"),
    (["eval", "--challenge_repo", "{repo}", "--model_id", "4"], "entry 4: it loads a checkpoint with weights_only=False"),
    (["eval", "--challenge_repo", "{repo}", "--model_id", "0", "--model", "{user}:TinySR"],
     "--model: give either it or --challenge_repo, not both"),
    (["time", "--model_ids", "0"], "--model_ids: give --challenge_repo"),
    (["time", "--challenge_repo", "{repo}", "--model_ids", "3"], "entry 3: missing package"),
    (["models", "--challenge_repo", "{repo}", "--model_ids", "42"], "--model_ids 42"),
    (["profile", "--models", "{user}"], "expected path/to/file.py:ClassName"),
    (["profile", "--models", "{user}:TinySR", "--size", "0"], "--size 0"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_bad_model_flags_are_one_line(argv, message, user_model, fake_repo, tiny_pairs, tmp_path, capsys):
    argv = [a.replace("{user}", str(user_model)).replace("{repo}", str(fake_repo)).replace("{tmp}", str(tmp_path))
            for a in argv]
    if argv[0] in ("eval", "time"):
        argv += ["--data_dir", str(tiny_pairs), "--device", "cpu"]
        argv += ["--save_dir", str(tmp_path / "out")] if argv[0] == "eval" else ["--out", str(tmp_path / "t.json")]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert err.startswith("slimrlfn: error: ") and message in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "out" / "results.json").exists() and not (tmp_path / "t.json").exists()
