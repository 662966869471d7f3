"""What every notebook does first: the embedded sample made when it is the default folder, one-line errors naming
the notebook's parameters."""
from __future__ import annotations

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.notebook import notebook_data, notebook_errors, rename_flags, timing_context


def test_the_sample_is_made_only_in_its_own_folder(tmp_path, capsys):
    made = notebook_data(tmp_path / "data" / "sample")
    assert sorted(p.name for p in made.iterdir()) == ["DIV2K_LSDIR_test_HR", "DIV2K_LSDIR_test_LR",
                                                      "DIV2K_LSDIR_valid_HR", "DIV2K_LSDIR_valid_LR"]
    assert len(list((made / "DIV2K_LSDIR_valid_HR").iterdir())) == 4
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["sample"]  # no staging folder left
    assert "made the embedded sample" in capsys.readouterr().out
    assert notebook_data(made) == made  # there: used as it is
    with pytest.raises(UserError, match=r"^data_dir = '.*elsewhere': no such folder; set data_dir"):
        notebook_data(tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"^hr = '.*empty': no DIV2K_LSDIR_valid_HR"):
        notebook_data(tmp_path / "empty", parameter="hr")


def test_errors_are_one_line_with_the_notebook_parameters():
    assert rename_flags("--val_dir x: no such folder (see --unknown)") == "data_dir = x: no such folder (see --unknown)"

    class Shell:
        def set_custom_exc(self, types, handler):
            self.types, self.handler = types, handler

    shell = Shell()
    assert notebook_errors(shell=shell) is True and shell.types == (UserError,)
    assert notebook_errors() is False  # no IPython shell here


def test_one_line_output(capsys):
    class Shell:
        def set_custom_exc(self, types, handler):
            self.handler = handler

    shell = Shell()
    notebook_errors(shell=shell)
    assert shell.handler(shell, UserError, UserError("--hr_dirs y: empty"), None) == ["UserError: hr_dir = y: empty"]
    assert capsys.readouterr().err == "UserError: hr_dir = y: empty\n"

    class Kernel(Shell):  # ipykernel's shell: the error goes out as the cell's error output
        def _showtraceback(self, etype, evalue, stb):
            self.shown = (etype, evalue, stb)

    kernel = Kernel()
    notebook_errors(shell=kernel)
    kernel.handler(kernel, UserError, UserError("--val_dir z: no such folder"), None)
    assert kernel.shown == (UserError, "data_dir = z: no such folder", ["UserError: data_dir = z: no such folder"])
    assert capsys.readouterr().err == ""


def test_timing_context_names_threads_and_load():
    text = timing_context(1, "cpu (test)")
    assert text.startswith("timed on cpu (test), 1 thread") and "threads" not in text
    assert "load average" in text
