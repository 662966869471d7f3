"""The counts of every entry of ../shared/ntire2026_esr that loads on a CPU equal the organisers' own results.json:
params to 1e-6 M, fvcore FLOPs to 1e-4 G, activations to 1e-4 M, convs exactly (activations hook Conv2d and
ConvTranspose2d only, as their model_summary.py does; a transformer entry, 06 HAESR, shows the difference)."""
from __future__ import annotations

import json

import pytest

from slimrlfn.arch.ref import load_model
from slimrlfn.core.errors import UserError
from slimrlfn.metrics.counts import activations_and_convs, count_parameters, fvcore_flops, organisers_model
from tests.conftest import shared_dir

#: What cannot load here, and why: the organisers' file has these entries too.
NOT_HERE = {5: "missing file model_zoo/team05", 12: "mamba_ssm", 22: "runs a program while it loads"}


@pytest.fixture(scope="module")
def repo_2026():
    folder = shared_dir() / "ntire2026_esr"
    if not (folder / "results.json").is_file():
        pytest.skip(f"the NTIRE 2026 repository with its results.json is not in {shared_dir()} (set SLIMRLFN_SHARED)")
    return folder


def _official(repo_2026):
    return {int(key.strip().split("_")[0]): row for key, row in json.loads((repo_2026 / "results.json").read_text()).items()}


@pytest.mark.shared
def test_every_2026_entry_that_loads_counts_as_the_organisers_counted_it(repo_2026):
    compared = []
    for model_id, row in sorted(_official(repo_2026).items()):
        try:
            spec = load_model({"challenge_repo": repo_2026, "model_id": model_id})
        except UserError as exc:
            assert NOT_HERE[model_id] in str(exc), f"entry {model_id} does not load: {exc}"
            continue
        model = organisers_model(spec.model)
        activations, convs = activations_and_convs(model)
        ours = (count_parameters(model) / 1e6, fvcore_flops(model) / 1e9, activations / 1e6, convs)
        theirs = (row["num_parameters"], row["flops"], row["activations"], row["num_conv"])
        assert abs(ours[0] - theirs[0]) <= 1e-6 and abs(ours[1] - theirs[1]) <= 1e-4, (model_id, ours, theirs)
        assert abs(ours[2] - theirs[2]) <= 1e-4 and ours[3] == theirs[3], (model_id, ours, theirs)
        compared.append(model_id)
    assert compared == [0, 1, 4, 6, 9, 10, 11, 15, 16, 17, 18, 20, 21]  # 10 needs basicsr, installed by make
