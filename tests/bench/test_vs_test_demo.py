"""bench/timing/official_on_cpu.py runs the official test_demo.py unchanged on a CPU and agrees with slimrlfn eval;
bench/timing/vs_test_demo.py refuses a wrong checkout in one line. (What the launcher does to the script's path
options is tests/core/test_script_args.py.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from slimrlfn.arch.ref import resolve_model
from slimrlfn.evaluate.ntire import evaluate
from tests.helpers import tree_fingerprint

BENCH = Path(__file__).resolve().parents[2] / "bench" / "timing"


def _ntire_layout(set_dir: Path, out: Path) -> Path:
    (out / "DIV2K_LSDIR_valid_HR").mkdir(parents=True)
    (out / "DIV2K_LSDIR_valid_LR").mkdir()
    for hr in sorted((set_dir / "HR").glob("*.png")):
        (out / "DIV2K_LSDIR_valid_HR" / hr.name).symlink_to(hr.resolve())
        (out / "DIV2K_LSDIR_valid_LR" / f"{hr.stem}x4.png").symlink_to((set_dir / "LR_bicubic" / "X4" / f"{hr.stem}x4.png").resolve())
    return out


def _assert_unchanged(repo: Path, before: dict, what: str) -> None:
    after = tree_fingerprint(repo)
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    assert not changed, f"{what} changed the checkout {repo}: {changed[:10]}"


@pytest.mark.shared
def test_the_official_script_runs_on_the_cpu_and_gives_the_psnr_of_slimrlfn_eval(esr_repo, set5_dir, tmp_path):
    data = _ntire_layout(set5_dir, tmp_path / "set5")
    work = tmp_path / "official"
    before = tree_fingerprint(esr_repo)  # the organisers' own results.json, results.txt and log are there
    done = subprocess.run([sys.executable, str(BENCH / "official_on_cpu.py"), "--repo", str(esr_repo), "--work_dir",
                           str(work), "--", "--data_dir", str(data), "--save_dir", str(work / "results"),
                           "--model_id", "21"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    official = json.loads((work / "results.json").read_text())["21_SlimRLFN"]
    assert len(official["valid_runtime"]) == 5 and all(ms > 0 for ms in official["valid_runtime"])  # CPU wall times
    assert official["valid_memory"] == 0.0 and abs(official["flops"] - 11.991) < 1e-3
    _assert_unchanged(esr_repo, before, "the official run")
    ours = evaluate(resolve_model(challenge_repo=esr_repo, model_id=21), data, tmp_path / "ours", backend="eager",
                    progress=False, save_images=False)
    _assert_unchanged(esr_repo, before, "slimrlfn's own load of the entry")
    assert ours["valid_psnr"] == pytest.approx(official["valid_psnr"], abs=1e-9)
    assert abs(official["valid_ave_psnr"] - 30.068) < 5e-4  # the reference of ../shared/README.md


def test_vs_test_demo_refuses_a_folder_without_test_demo_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH / "vs_test_demo.py"), "--repo", str(tmp_path), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"vs_test_demo.py: error: --repo {tmp_path}: no test_demo.py there; "
                                                f"expected an NTIRE ESR repository checkout"]
    assert not (tmp_path / "out").exists()


@pytest.mark.shared
def test_the_official_script_reads_a_relative_data_dir(esr_repo, set5_dir, tmp_path, monkeypatch):
    _ntire_layout(set5_dir, tmp_path / "set5")
    monkeypatch.chdir(tmp_path)
    done = subprocess.run([sys.executable, str(BENCH / "official_on_cpu.py"), "--repo", str(esr_repo), "--work_dir",
                           "official", "--", "--data_dir", "set5", "--save_dir", "official/results", "--model_id", "21"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    official = json.loads((tmp_path / "official" / "results.json").read_text())["21_SlimRLFN"]
    assert len(official["valid_runtime"]) == 5
    assert (tmp_path / "official" / "results" / "21_SlimRLFN" / "valid").is_dir()
