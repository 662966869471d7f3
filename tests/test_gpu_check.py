"""bench/gpu_check.py without CUDA: one line on stderr, exit status 2, nothing written."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "gpu_check.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is here: run bench/gpu_check.py itself")
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
