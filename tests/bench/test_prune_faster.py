"""bench/pruning/prune_faster.py as a process: a bad folder is one line and exit status 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "pruning" / "prune_faster.py"


def test_a_missing_folder_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "photos").mkdir()
    result = subprocess.run([sys.executable, str(SCRIPT), "--hr_dir", str(tmp_path / "photos"), "--set5",
                             str(tmp_path / "photos"), "--set14", str(tmp_path / "nowhere"), "--out_dir",
                             str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"--set14 {tmp_path / 'nowhere'}: no such folder")
    assert not (tmp_path / "out").exists()
