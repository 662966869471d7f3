"""The counts cache (slimrlfn.metrics.counts_cache): a hit gives the counts a fresh count gives; another architecture,
input shape or counting code is another entry; new weights are the same entry; a broken entry is counted again."""
import json

import torch

from slimrlfn.arch.config import build_model
from slimrlfn.metrics.counts import profile_model
from slimrlfn.metrics.counts_cache import architecture_digest, cache_dir, cached_profile

TINY = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1, "prune_channels": [6, 7], "esa_channels": 4}
SHAPE = (1, 3, 32, 32)


def _without_cache_keys(counts):
    return {k: v for k, v in counts.items() if k not in ("counts_cache", "architecture_digest")}


def test_a_hit_equals_a_fresh_count(tmp_path):
    model = build_model(TINY).eval()
    first = cached_profile(model, SHAPE, tmp_path)
    second = cached_profile(model, SHAPE, tmp_path)
    assert (first["counts_cache"], second["counts_cache"]) == ("miss", "hit")
    fresh = profile_model(model, SHAPE)
    assert _without_cache_keys(second) == json.loads(json.dumps(fresh))  # as JSON keeps them
    assert [p.name for p in tmp_path.iterdir()] == [f"{first['architecture_digest']}.json"]


def test_another_architecture_or_shape_is_counted_again(tmp_path):
    model = build_model(TINY).eval()
    narrower = build_model({**TINY, "prune_channels": [5, 7]}).eval()
    base = cached_profile(model, SHAPE, tmp_path)
    other = cached_profile(narrower, SHAPE, tmp_path)
    assert other["counts_cache"] == "miss" and other["architecture_digest"] != base["architecture_digest"]
    assert other["num_parameters_raw"] == profile_model(narrower, SHAPE)["num_parameters_raw"] < base["num_parameters_raw"]
    bigger = cached_profile(model, (1, 3, 48, 48), tmp_path)
    assert bigger["counts_cache"] == "miss" and bigger["flops_raw"] > base["flops_raw"]


def test_new_weights_are_the_same_entry_and_refresh_recounts(tmp_path):
    model = build_model(TINY).eval()
    digest = architecture_digest(model, SHAPE)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(1.0)
    assert architecture_digest(model, SHAPE) == digest
    cached_profile(model, SHAPE, tmp_path)
    assert cached_profile(model, SHAPE, tmp_path)["counts_cache"] == "hit"
    assert cached_profile(model, SHAPE, tmp_path, refresh=True)["counts_cache"] == "miss"


def test_the_counting_code_is_part_of_the_key(monkeypatch):
    import slimrlfn.metrics.counts_cache as cache

    model = build_model(TINY).eval()
    digest = architecture_digest(model, SHAPE)
    real = cache._source_digest
    monkeypatch.setattr(cache, "_source_digest",
                        lambda name, seen: "edited" if name == "slimrlfn.metrics.counts" else real(name, seen))
    assert architecture_digest(model, SHAPE) != digest


def test_a_broken_entry_is_counted_again_and_an_unwritable_folder_only_means_no_cache(tmp_path):
    model = build_model(TINY).eval()
    first = cached_profile(model, SHAPE, tmp_path)
    (tmp_path / f"{first['architecture_digest']}.json").write_text("{ not json")
    again = cached_profile(model, SHAPE, tmp_path)
    assert again["counts_cache"] == "miss" and again["flops_raw"] == first["flops_raw"]
    blocked = tmp_path / "a_file"
    blocked.write_text("x")
    assert cached_profile(model, SHAPE, blocked / "counts")["counts_cache"] == "off"


def test_the_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SLIMRLFN_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path / "counts"
