"""slimrlfn.core.script_args: the launcher of the official test_demo.py hands it absolute path options."""
from __future__ import annotations

from slimrlfn.core.script_args import absolute_path_options


def test_the_launcher_makes_the_scripts_path_options_absolute(tmp_path, monkeypatch):
    """The launcher changes directory before it runs test_demo.py: a relative --data_dir must still name the
    caller's folder (it found no images and divided by zero before)."""
    monkeypatch.chdir(tmp_path)
    words = ["--data_dir", "data", "--save_dir=out/r", "--model_id", "21", "--include_test"]
    assert absolute_path_options(words) == ["--data_dir", str(tmp_path / "data"), f"--save_dir={tmp_path / 'out/r'}",
                                            "--model_id", "21", "--include_test"]
    assert absolute_path_options(["--data_dir", "/abs/d"]) == ["--data_dir", "/abs/d"]
