import hashlib

import pytest
import torch

from slimrlfn.arch.config import build_model
from slimrlfn.arch.zoo import ZOO, ZooEntry, find_checkpoint, load_zoo_model
from slimrlfn.core.errors import UserError


@pytest.fixture
def fake_entry(monkeypatch, tmp_path):
    """Replace the 'slimrlfn' entry by a tiny model whose file and digest we control."""
    model = build_model({"arch": "slimrlfn", "num_blocks": 1})
    source = tmp_path / "release" / "team21_slimrlfn.pth"
    source.parent.mkdir()
    torch.save(model.state_dict(), source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    entry = ZooEntry("slimrlfn", "SlimRLFN", "team21_slimrlfn.pth", digest,
                     {"arch": "slimrlfn", "in_channels": 3, "out_channels": 3, "feature_channels": 30,
                      "num_blocks": 1, "prune_channels": [30, 30], "esa_channels": 16, "upscale": 4},
                     "21_SlimRLFN", 21)
    monkeypatch.setitem(ZOO, "slimrlfn", entry)
    monkeypatch.delenv("SLIMRLFN_MODEL_ZOO", raising=False)
    monkeypatch.delenv("SLIMRLFN_OFFLINE", raising=False)
    monkeypatch.chdir(tmp_path)
    return source


def test_lookup_order_explicit_then_env_then_local(fake_entry, monkeypatch, tmp_path):
    assert find_checkpoint("slimrlfn", path=fake_entry) == fake_entry
    assert find_checkpoint("slimrlfn", path=fake_entry.parent) == fake_entry
    monkeypatch.setenv("SLIMRLFN_MODEL_ZOO", str(fake_entry.parent))
    assert find_checkpoint("slimrlfn") == fake_entry.parent / "team21_slimrlfn.pth"
    monkeypatch.delenv("SLIMRLFN_MODEL_ZOO")
    local = tmp_path / "model_zoo" / "team21_slimrlfn.pth"
    local.parent.mkdir()
    local.write_bytes(fake_entry.read_bytes())
    assert find_checkpoint("slimrlfn").resolve() == local.resolve()


def test_download_is_verified_and_lands_in_model_zoo(fake_entry, tmp_path):
    url = fake_entry.parent.as_uri() + "/{file}"
    path = find_checkpoint("slimrlfn", url_template=url)
    assert path.resolve() == (tmp_path / "model_zoo" / "team21_slimrlfn.pth").resolve()
    model, entry = load_zoo_model("slimrlfn")
    assert entry.result_name == "21_SlimRLFN" and not model.training


def test_download_with_wrong_digest_writes_nothing(fake_entry, tmp_path):
    fake_entry.write_bytes(b"tampered")
    with pytest.raises(UserError, match="does not match"):
        find_checkpoint("slimrlfn", url_template=fake_entry.parent.as_uri() + "/{file}")
    assert not (tmp_path / "model_zoo" / "team21_slimrlfn.pth").exists()


def test_offline_and_not_found_says_where_to_put_which_file(fake_entry, monkeypatch):
    monkeypatch.setenv("SLIMRLFN_OFFLINE", "1")
    with pytest.raises(UserError) as info:
        find_checkpoint("slimrlfn")
    message = str(info.value)
    assert "team21_slimrlfn.pth" in message and "./model_zoo/" in message and "SLIMRLFN_MODEL_ZOO" in message
    with pytest.raises(UserError, match="download of .* failed"):
        find_checkpoint("slimrlfn", download=True, url_template="file:///nonexistent/{file}")


def test_sha256_mismatch_of_a_local_file(fake_entry, tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"x" * 10)
    with pytest.raises(UserError, match="sha256 .* does not match the official team21_slimrlfn.pth"):
        find_checkpoint("slimrlfn", path=bad)


def test_unknown_name():
    with pytest.raises(UserError, match="expected one of rlfn, slimrlfn, slimrlfn_prune"):
        find_checkpoint("edsr")


@pytest.mark.shared
@pytest.mark.parametrize("name", list(ZOO))
def test_official_checkpoints_load_bit_exactly(official_zoo, name):
    model, entry = load_zoo_model(name)
    original = torch.load(official_zoo / entry.file, map_location="cpu", weights_only=True)
    loaded = model.state_dict()
    assert list(loaded) == list(original)
    assert all(torch.equal(loaded[k], original[k]) for k in original)


def test_a_relative_zoo_folder_and_a_local_model_zoo_are_made_absolute_for_the_notebooks(tmp_path, monkeypatch):
    """The notebooks run in notebooks/: the workbook hands their kernels the folder this folder means."""
    from slimrlfn.arch.zoo import zoo_environment

    monkeypatch.chdir(tmp_path)
    assert zoo_environment({}) == {}
    assert zoo_environment({"SLIMRLFN_MODEL_ZOO": "../shared/model_zoo"}) == {
        "SLIMRLFN_MODEL_ZOO": str((tmp_path / ".." / "shared" / "model_zoo").resolve())}
    (tmp_path / "model_zoo").mkdir()
    (tmp_path / "model_zoo" / ZOO["slimrlfn"].file).write_bytes(b"")
    assert zoo_environment({}) == {"SLIMRLFN_MODEL_ZOO": str(tmp_path / "model_zoo")}


def test_a_notebook_in_notebooks_finds_the_checkouts_model_zoo(official_zoo, tmp_path, monkeypatch):
    """Opened by hand in JupyterLab (cwd notebooks/, no variable), a notebook finds the repository root's model_zoo/."""
    import slimrlfn.arch.zoo as zoo

    monkeypatch.delenv("SLIMRLFN_MODEL_ZOO", raising=False)
    monkeypatch.setattr(zoo, "CHECKOUT_ZOO", official_zoo)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert zoo.find_checkpoint("rlfn", download=False) == official_zoo / ZOO["rlfn"].file
