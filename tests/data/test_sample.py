"""slimrlfn.data.sample: the embedded sample set needs no download."""
from slimrlfn.data.pairs import find_pairs
from slimrlfn.data.sample import SAMPLE_SPLITS, make_sample


def test_make_sample_uses_only_packaged_images(tmp_path):
    splits = make_sample(tmp_path, progress=False)
    assert {s: [p.name for p in pairs] for s, pairs in splits.items()} == {s: list(n) for s, n in SAMPLE_SPLITS.items()}
    assert len(find_pairs(tmp_path, "valid")) == 4 and len(find_pairs(tmp_path, "test")) == 2
