import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.field.parts import data_parts, official_splits


def test_an_ntire_folder_gives_valid_then_test(tiny_pairs):
    parts = data_parts([tiny_pairs])
    assert [(p["label"], p["split"], p["names"]) for p in parts] == [("valid", "valid", ["a", "b"]),
                                                                     ("test", "test", ["c"])]
    assert [p["label"] for p in data_parts([tiny_pairs], include_test=False)] == ["valid"]
    assert not official_splits(parts), "2 and 1 images are not the official 100"


def test_benchmark_sets_are_labelled_by_folder(set5_dir, set14_dir):
    parts = data_parts([set5_dir, set14_dir])
    assert [p["label"] for p in parts] == ["Set5", "Set14"] and len(parts[1]["names"]) == 14


def test_bad_data(tmp_path, tiny_pairs):
    with pytest.raises(UserError, match="--data_dir: give at least one folder"):
        data_parts([])
    with pytest.raises(UserError, match=f"--data_dir {tmp_path / 'none'}: no such folder"):
        data_parts([tmp_path / "none"])
    with pytest.raises(UserError, match="two parts are named alike"):
        data_parts([tiny_pairs, tiny_pairs])
