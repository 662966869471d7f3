"""slimrlfn.arch.challenge across repositories: two repositories with the same models/ file names (the 2024 and 2025
ones both have models/team00_RLFN.py) each load their own, an id in two branches is read at the branch that runs,
and the environment an entry loads in is put back as it was."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.core.errors import UserError

_MODEL = textwrap.dedent('''
    import torch.nn as nn


    class RLFN(nn.Module):
        YEAR = {year!r}

        def __init__(self):
            super().__init__()
            self.body = nn.Conv2d(3, 48, 3, padding=1)
            self.shuffle = nn.PixelShuffle(4)

        def forward(self, x):
            return self.shuffle(self.body(x))
''')

_TEST_DEMO = textwrap.dedent('''
    import os


    def select_model(args, device):
        model_id = args.model_id
        tile = None
        if model_id == 0:
            from models.team00_RLFN import RLFN
            name, data_range, model = "00_RLFN", 255.0, RLFN()
        elif model_id == 1:
            name, data_range, model = "01_Zoo", 1.0, None
            model.load_state_dict("model_zoo/team01_missing.pth")
        elif model_id == 2:
            from models.team00_RLFN import RLFN
            os.system("python setup.py build_ext --inplace")
            name, data_range, model = "02_Builds", 1.0, RLFN()
        elif model_id == 3:
            from models.team00_RLFN import RLFN
            name, data_range, model, tile = "03_Tile0", 1.0, RLFN(), 0
        elif model_id == 4:
            from models.team00_RLFN import RLFN
            name, data_range, model, tile = "04_Tile256", 1.0, RLFN(), 256
        elif model_id == 5:
            from models.team00_RLFN import RLFN
            import span_ops  # a top-level module of the repository (2026's span_attention_op is a folder of it)
            name, data_range, model = span_ops.NAME, 1.0, RLFN()
        elif model_id == 0:  # never runs: the first branch for 0 does
            from models.team00_Gone import Gone
            name, data_range, model = "00_Gone", 1.0, Gone()
        elif model_id == 1:  # never runs either, though its files are all there
            from models.team00_RLFN import RLFN
            name, data_range, model = "01_Shadowed", 1.0, RLFN()
        return model, name, data_range, tile
''')


def _repo(folder: Path, year: object) -> Path:
    """A challenge repository whose models/team00_RLFN.py says ``year``; see _TEST_DEMO for its entries."""
    (folder / "models").mkdir(parents=True)
    (folder / "model_zoo").mkdir()
    (folder / "test_demo.py").write_text(_TEST_DEMO)
    (folder / "models" / "team00_RLFN.py").write_text(_MODEL.format(year=year))
    (folder / "span_ops.py").write_text(f"NAME = {f'05_{year}'!r}\n")
    return folder


@pytest.fixture(autouse=True)
def _forget_repository_modules():
    """The models/ modules these repositories bring leave sys.modules with the test."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.split(".")[0] in ("models", "utils", "span_ops"):
            del sys.modules[name]


def test_two_repositories_with_the_same_model_file_each_load_their_own(tmp_path):
    """Catches the sys.modules purge inverted: the second repository would get the first's models/team00_RLFN."""
    first, second = ChallengeRepo(_repo(tmp_path / "ntire2024", 2024)), ChallengeRepo(_repo(tmp_path / "ntire2025", 2025))
    assert type(first.load(0).model).YEAR == 2024
    assert type(second.load(0).model).YEAR == 2025
    assert type(first.load(0).model).YEAR == 2024


def test_a_sibling_folder_whose_name_starts_with_the_repository_s_is_another_repository(tmp_path):
    """Catches a purge that compares folder names by prefix: esr2's models/ module would be kept for esr."""
    longer, shorter = ChallengeRepo(_repo(tmp_path / "esr2", "esr2")), ChallengeRepo(_repo(tmp_path / "esr", "esr"))
    assert type(longer.load(0).model).YEAR == "esr2"
    assert type(shorter.load(0).model).YEAR == "esr"


def test_the_repository_comes_first_on_sys_path(tmp_path, monkeypatch):
    """Catches the repository appended to sys.path: a module of the same name earlier on it would be imported."""
    monkeypatch.syspath_prepend(str(_repo(tmp_path / "elsewhere", "decoy")))
    assert ChallengeRepo(_repo(tmp_path / "ntire2024", 2024)).load(5).name == "05_2024"


def test_a_regular_models_package_elsewhere_does_not_shadow_the_repository_s(tmp_path, monkeypatch):
    """Catches the repository's models/ (no __init__.py) left a namespace package, which any regular package named
    models on sys.path shadows, wherever it stands there."""
    decoy = _repo(tmp_path / "site", "decoy")
    (decoy / "models" / "__init__.py").write_text("")
    monkeypatch.setattr(sys, "path", [*sys.path, str(decoy)])  # last: a package installed in site-packages
    assert type(ChallengeRepo(_repo(tmp_path / "ntire2024", 2024)).load(0).model).YEAR == 2024


def test_an_id_in_two_branches_is_prechecked_at_the_first_which_is_the_one_that_runs(tmp_path):
    """Catches the precheck reading the last branch of a duplicated id instead of the first, which select_model runs."""
    repo = ChallengeRepo(_repo(tmp_path / "ntire2024", 2024))
    assert repo.ids() == [0, 1, 2, 3, 4, 5]
    assert repo.precheck(0) is None  # the second branch's models/team00_Gone.py is missing, and never imported
    assert repo.load(0).name == "00_RLFN"
    assert repo.precheck(1) == f"missing file model_zoo/team01_missing.pth in {repo.folder}"
    with pytest.raises(UserError, match=r"^entry 1: missing file model_zoo/team01_missing.pth"):
        repo.load(1)


def test_the_environment_is_put_back_after_an_entry_loads_or_fails(tmp_path, monkeypatch):
    """Catches programs left refused, the bytecode flag left set, or the working directory left changed after a load."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    popen, system, cwd = subprocess.Popen, os.system, os.getcwd()
    repo = ChallengeRepo(_repo(tmp_path / "ntire2024", 2024))
    with pytest.raises(UserError, match=r"^entry 2: it runs a program while it loads \(python setup.py build_ext"):
        repo.load(2)
    repo.load(0)
    assert (subprocess.Popen, os.system, os.getcwd()) == (popen, system, cwd)
    assert sys.dont_write_bytecode is False
    assert not list(repo.folder.rglob("__pycache__"))  # while it loaded, nothing was written into the repository


def test_a_tile_from_select_model_is_none_or_a_positive_integer(tmp_path):
    """Catches a tile of 0 accepted from select_model (a forward in tiles of 0 pixels)."""
    repo = ChallengeRepo(_repo(tmp_path / "ntire2024", 2024))
    assert repo.load(4).tile == 256
    with pytest.raises(UserError, match=r"^entry 3: select_model returned the tile 0, expected None or a positive"):
        repo.load(3)
    assert isinstance(repo.load(0).model(torch.zeros(1, 3, 2, 2)), torch.Tensor)
