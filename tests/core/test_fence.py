"""slimrlfn.core.fence and the challenge loader behind it: third-party code that exits, interrupts, parses this
process's command line or names a path outside its folder becomes one line, while the user's own Ctrl-C still stops."""
from __future__ import annotations

import json
import signal

import pytest

from slimrlfn.arch.ref import load_model
from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.core.fence import fence
from slimrlfn.core.files import safe_name
from tests.helpers import write_hostile_repo


@pytest.fixture
def hostile(tmp_path):
    return write_hostile_repo(tmp_path / "hostile_esr")


@pytest.mark.parametrize("model_id, message", [
    (0, r"^entry 0: its code called sys.exit\(3\)"),
    (1, r"^entry 1: its code raised KeyboardInterrupt \(not a Ctrl-C of yours\)"),
    (2, r"^entry 2: its code called sys.exit\(2\) \(an argparse parse_args\(\)"),
    (4, r"^entry 4: select_model's data_range abc: expected 1"),
    (5, r"^entry 5: select_model returned the tile -3, expected None or a positive integer"),
    (6, r"^entry 6: select_model returned str as the model"),
])
def test_what_an_entry_raises_or_exits_with_is_its_one_line_failure(hostile, model_id, message):
    with pytest.raises(UserError, match=message) as info:
        load_model({"challenge_repo": hostile, "model_id": model_id})
    assert "\n" not in str(info.value)


def test_the_listing_always_prints_every_entry(hostile, tmp_path, capsys):
    assert main(["models", "--challenge_repo", str(hostile), "--json", str(tmp_path / "l.json")]) == 0
    rows = {row["id"]: row for row in json.loads((tmp_path / "l.json").read_text())}
    assert sorted(rows) == list(range(8)) and [i for i, r in rows.items() if r["loads"]] == [3, 7]
    assert "test_demo.py: 8 entries, 2 load" in capsys.readouterr().out


def test_a_traversing_name_stays_the_results_key_and_its_images_stay_in_the_save_dir(hostile, tiny_pairs, tmp_path):
    save = tmp_path / "deep" / "er" / "out"
    for model_id in (3, 7):
        assert main(["eval", "--challenge_repo", str(hostile), "--model_id", str(model_id), "--data_dir",
                     str(tiny_pairs), "--save_dir", str(save), "--device", "cpu", "--backend", "eager"]) == 0
    results = json.loads((save / "results.json").read_text())
    assert sorted(results) == ["         07_Padded", "../../escaped"]
    assert results["../../escaped"]["images"] == "escaped" and (save / "escaped" / "valid").is_dir()
    assert results["         07_Padded"]["images"] == "07_Padded"
    assert not (tmp_path / "deep" / "escaped").exists() and not (tmp_path / "escaped").exists()
    assert [safe_name(n) for n in ("..", "a/b", " ", "x" * 300)] == ["model", "a_b", "model", "x" * 120]


def test_the_users_ctrl_c_still_stops_and_the_handler_is_put_back():
    # Python's own Ctrl-C handler first: a suite started in the background (`make test &`, a CI step) inherits SIGINT
    # ignored, Python then keeps it ignored, and the fence rightly lets an ignored Ctrl-C do nothing
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _check_the_users_ctrl_c()
    finally:
        signal.signal(signal.SIGINT, outer)


def _check_the_users_ctrl_c():
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), fence("entry 9"):
        signal.raise_signal(signal.SIGINT)  # a real SIGINT, as Ctrl-C sends it, raised in this thread
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(UserError, match="entry 9: its code raised KeyboardInterrupt"), fence("entry 9"):
        raise KeyboardInterrupt
