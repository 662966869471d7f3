"""A build lock of NNCF's extension left by a killed process is removed before QAT (it made every QAT test of one CI
run wait 600 s for it); a young lock, perhaps a build in progress, and every other file stay."""
from __future__ import annotations

import os

from slimrlfn.quantize.qat import STALE_LOCK_SECONDS, clear_stale_extension_locks

NOW = 1_800_000_000.0  # a fake clock: the test reads no real time


def _lock(root, name, age):
    folder = root / "nncf" / name / "2.13.0+cpu"
    folder.mkdir(parents=True)
    (folder / "quantized_functions_cpu.so").write_bytes(b"built")
    lock = folder / "lock"
    lock.write_bytes(b"")
    os.utime(lock, (NOW - age, NOW - age))
    return lock


def test_only_a_lock_older_than_the_limit_is_removed_and_said(tmp_path):
    old = _lock(tmp_path, "quantized_functions_cpu", STALE_LOCK_SECONDS + 1)
    young = _lock(tmp_path, "binarized_functions_cpu", STALE_LOCK_SECONDS - 60)
    lines = []
    removed = clear_stale_extension_locks([tmp_path], now=NOW, say=lines.append)
    assert removed == [old] and not old.exists() and young.exists()
    assert (old.parent / "quantized_functions_cpu.so").read_bytes() == b"built"
    assert len(lines) == 1 and str(old) in lines[0] and "stale" in lines[0] and "20 min" in lines[0]


def test_nothing_to_do_says_nothing(tmp_path):
    lines = []
    assert clear_stale_extension_locks([tmp_path / "absent", tmp_path], now=NOW, say=lines.append) == []
    assert lines == []


def test_the_environment_folder_is_the_one_searched(tmp_path, monkeypatch):
    old = _lock(tmp_path, "quantized_functions_cpu", STALE_LOCK_SECONDS * 3)
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    assert clear_stale_extension_locks(now=NOW, say=lambda line: None) == [old]
