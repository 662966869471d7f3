"""Output paths checked before work (slimrlfn.core.outputs): nothing is created, and the flag is named."""
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
