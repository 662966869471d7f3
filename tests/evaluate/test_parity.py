"""slimrlfn.evaluate.parity: every entry of the 2024 repository that loads gives, through the workbook's eval
path, the repository's own outputs bit for bit, and the repository's own params and FLOPs."""
from __future__ import annotations

import pytest

from slimrlfn.arch.challenge import ChallengeRepo
from slimrlfn.arch.ref import resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.data.pairs import find_pairs
from slimrlfn.evaluate.parity import compare_counts, compare_outputs
from tests.helpers import LOADING_2024


@pytest.mark.parametrize("model_id", sorted(LOADING_2024))
def test_outputs_and_counts_equal_the_repository_own_code(esr_repo, set5_dir, model_id):
    repo = ChallengeRepo(esr_repo)
    spec = resolve_model(challenge_repo=esr_repo, model_id=model_id)
    pairs = [p for p in find_pairs(set5_dir, "valid") if p.name == "butterfly"]
    (row,) = compare_outputs(repo, model_id, spec, pairs)
    assert row["max_abs_float"] == 0.0 and row["uint8_equal"] and row["psnr_ours"] == row["psnr_theirs"]
    assert 20 < row["psnr_ours"] < 35
    counts = compare_counts(repo, model_id, spec)
    assert counts["params_ours"] == counts["params_theirs"] and counts["flops_ours"] == counts["flops_theirs"]
    assert counts["fvcore_skipped"]["aten::pixel_shuffle"] == 1  # every 2024 entry ends in a pixel shuffle


def test_a_repository_without_its_utils_is_one_line(fake_repo, tiny_pairs):
    spec = resolve_model(challenge_repo=fake_repo, model_id=0)
    with pytest.raises(UserError, match="no utils/utils_image.py in it"):
        compare_outputs(ChallengeRepo(fake_repo), 0, spec, find_pairs(tiny_pairs, "valid"))
