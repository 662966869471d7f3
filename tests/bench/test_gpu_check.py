"""bench/checks/gpu_check.py without CUDA: one line on stderr, exit status 2, nothing written."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "checks" / "gpu_check.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here: run bench/checks/gpu_check.py itself")
def test_without_cuda_it_exits_with_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "report")], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"})
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("gpu_check: no CUDA device here"), done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_every_check_has_a_runner():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.CHECKS) == {"eval", "eval_paths", "timing_separate", "timing_consecutive",
                                  "timing_eager_loading", "timing_benchmark", "backends", "amp_training", "nccl"}
    assert all(callable(check) for check in module.CHECKS.values())


@pytest.mark.shared
def test_the_cpu_rehearsal_runs_the_checks_and_says_it_has_no_gpu_figures(official_zoo, set5_dir, tmp_path):
    """The rehearsal proves the script's own calls into the package (they rotted once in another bench) before a
    GPU session spends its minutes; ``backends`` (about a minute here) is left to the bench itself."""
    only = ["eval", "eval_paths", "timing_separate", "timing_eager_loading", "amp_training", "nccl"]
    done = subprocess.run([sys.executable, str(SCRIPT), "--rehearse_on_cpu", "--runs", "1", "--data_dir", str(set5_dir),
                           "--out", str(tmp_path / "report"), "--only", *only], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "report" / "gpu_check.json").read_text())
    assert report["rehearsal"] is True and list(report["checks"]) == only
    status = {name: check["status"] for name, check in report["checks"].items()}
    assert status == {**{name: "ok" for name in only}, "timing_eager_loading": "skipped"}
    rows = report["checks"]["eval"]["result"]
    assert set(rows) == {"rlfn_eager", "slimrlfn_eager", "slimrlfn_prune_eager"}
    assert abs(rows["slimrlfn_eager"]["valid_ave_psnr"] - 30.068) < 5e-4  # ../shared/README.md's reference
    assert report["checks"]["eval_paths"]["result"]["paths"] == []  # no CUDA-only path on the CPU
    assert report["checks"]["nccl"]["result"] == {"backend": "gloo", "all_reduce": [2.0] * 4}
    assert (tmp_path / "report" / "gpu_check.md").read_text().startswith("# gpu_check REHEARSAL on the CPU")
