"""Output paths checked before work (slimrlfn.core.outputs): nothing is created, and the flag is named."""
import os
import shutil
import subprocess

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.core.outputs import check_output_dir, check_output_file


def test_a_new_folder_is_accepted_and_not_made(tmp_path):
    target = tmp_path / "a" / "b"
    assert check_output_dir(target, "--out_dir") == target
    assert not (tmp_path / "a").exists()
    assert list(tmp_path.iterdir()) == []  # the probe file is gone


def test_a_file_where_a_folder_is_meant(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match=r"^--save_dir .*f: is a file; expected a folder"):
        check_output_dir(tmp_path / "f", "--save_dir")
    with pytest.raises(UserError, match=r"^--save_dir .*f/sub: .*f is a file, not a folder"):
        check_output_dir(tmp_path / "f" / "sub", "--save_dir")


def test_a_folder_where_a_file_is_meant(tmp_path):
    with pytest.raises(UserError, match=r"^--out .*: is a folder; expected a file name"):
        check_output_file(tmp_path, "--out")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match=r"^--json .*f/x.json: .*f is a file, not a folder"):
        check_output_file(tmp_path / "f" / "x.json", "--json")
    assert check_output_file(tmp_path / "new" / "x.json", "--json").name == "x.json"
    assert not (tmp_path / "new").exists()


@pytest.mark.skipif(shutil.which("chattr") is None, reason="chattr is not installed")
def test_an_immutable_folder_is_refused_even_for_root(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not allowed here")
    try:
        with pytest.raises(UserError, match=r"^--out_dir .*locked/sub: cannot write in .*locked"):
            check_output_dir(locked / "sub", "--out_dir")
        with pytest.raises(UserError, match=r"^--out .*: cannot write in"):
            check_output_file(locked / "x.json", "--out")
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=False)


def test_atomic_files_get_the_mode_of_an_ordinary_new_file(tmp_path):
    """mkstemp makes 0600 files; results in a shared folder must be as readable as the user's other files."""
    import os

    from slimrlfn.core.files import atomic_write_text

    (tmp_path / "plain.txt").write_text("x")
    written = atomic_write_text(tmp_path / "results.json", "{}\n")
    plain = os.stat(tmp_path / "plain.txt").st_mode & 0o777
    assert os.stat(written).st_mode & 0o777 == plain
    assert plain != 0o600, "this test needs a umask that leaves a new file readable by others (e.g. 022)"


def test_a_second_run_into_the_same_output_is_refused_at_once_and_a_refused_first_one_leaves_no_folder(tmp_path):
    from slimrlfn.core.locks import output_lock

    out = tmp_path / "run"
    with output_lock(out, "--out_dir"):
        with pytest.raises(UserError, match=r"--out_dir .*run: another run is writing there right now"):
            with output_lock(out, "--out_dir"):
                pass
        (out / "records.jsonl").write_text("")
    with output_lock(out, "--out_dir"):  # free again once the first run ended
        pass
    with pytest.raises(UserError, match="refused by the run"), output_lock(tmp_path / "new", "--out_dir"):
        raise UserError("refused by the run")
    assert not (tmp_path / "new").exists()
    with pytest.raises(UserError), output_lock(tmp_path / "a" / "b" / "c", "--out_dir"):  # its new parents too
        raise UserError("refused by the run")
    assert not (tmp_path / "a").exists()
    (tmp_path / "kept").mkdir()
    with pytest.raises(UserError), output_lock(tmp_path / "kept" / "c", "--out_dir"):
        raise UserError("refused by the run")
    assert (tmp_path / "kept").is_dir() and not (tmp_path / "kept" / "c").exists()


def test_a_pruning_run_into_a_folder_another_run_holds_is_refused(tmp_path, monkeypatch):
    from slimrlfn.core.locks import output_lock
    from slimrlfn.prune import schedule

    class Run:
        def __init__(self, settings, log):
            self.out_dir, self.start_measure = tmp_path / "p", None

        def run(self):
            raise AssertionError("must not start")

    monkeypatch.setattr(schedule, "PruneRun", Run)
    with output_lock(tmp_path / "p", "--out_dir"):
        with pytest.raises(UserError, match="another run is writing there"):
            schedule.prune_iteratively(object(), log=lambda line: None)


def test_a_field_into_a_folder_another_field_holds_is_refused_before_it_lists_a_member(tmp_path, monkeypatch):
    """Two `field` runs into one folder (the JSON and its tables) must not both measure at once."""
    from slimrlfn.core.locks import output_lock
    from slimrlfn.field import study

    monkeypatch.setattr(study, "list_members", lambda *a, **k: pytest.fail("the second field must not start"))
    with output_lock(tmp_path / "field", "--out"):
        with pytest.raises(UserError, match=r"--out .*field: another run is writing there right now"):
            study.run_field(models=["rlfn"], out=tmp_path / "field" / "field.json", progress=False)
    monkeypatch.setattr(study, "list_members", lambda *a, **k: (_ for _ in ()).throw(UserError("no such member")))
    with pytest.raises(UserError, match="no such member"):  # free again; a refusal leaves no empty folder
        study.run_field(models=["rlfn"], out=tmp_path / "new" / "field.json", progress=False)
    assert not (tmp_path / "new").exists()


def test_an_existing_file_that_cannot_be_replaced_is_refused_before_any_work(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("{}")
    done = subprocess.run(["chattr", "+i", str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not possible here ({done.stderr.strip()[:80]})")
    try:
        with pytest.raises(UserError, match=r"--out .*results.json: cannot be replaced"):
            check_output_file(target, "--out")
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)
    assert target.read_text() == "{}"


@pytest.fixture
def full_disk(tmp_path):
    """A 16 KiB tmpfs: a file system that fills at once (skipped, with the reason, where one cannot be mounted)."""
    folder = tmp_path / "full"
    folder.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(folder)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()[:120]}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_full_disk_is_one_line_naming_the_file_and_leaves_no_partial_file(full_disk, hr_dir, capsys):
    from slimrlfn.cli import main
    from slimrlfn.core.files import atomic_write_bytes

    with pytest.raises(OSError) as raised:
        atomic_write_bytes(full_disk / "big.bin", b"x" * 64 * 1024)
    assert raised.value.filename == str(full_disk / "big.bin") and list(full_disk.iterdir()) == []

    code = main(["data", "pairs", "--hr_dir", str(hr_dir), "--out_dir", str(full_disk / "d")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and "Traceback" not in err, err
    assert lines[-1].startswith("slimrlfn: error: ") and "no space left on the device" in lines[-1], err
    assert str(full_disk) in lines[-1]
    partial = [p for p in full_disk.rglob("*") if p.name.endswith(".tmp") or ".partial" in p.name]
    assert partial == [], partial
