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


def test_an_input_beyond_the_memory_is_refused_before_any_model_loads():
    import pytest

    from slimrlfn.core.arguments import MIN_BYTES_PER_LR_PIXEL, check_fits_memory
    from slimrlfn.core.errors import UserError

    gib = 2 ** 30
    check_fits_memory([256, 256], memory=gib)  # 256x256 needs ~0.06 GiB
    with pytest.raises(UserError, match=r"^--sizes 60000x60000: one forward needs at least \d+ GiB, more than this "
                                        r"machine's 24 GiB"):
        check_fits_memory([60000, 60000], memory=24 * gib)
    side = int((gib / MIN_BYTES_PER_LR_PIXEL) ** 0.5)
    check_fits_memory([side, side], memory=gib)
    with pytest.raises(UserError):
        check_fits_memory([side + 2, side + 2], memory=gib)
