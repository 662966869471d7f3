"""slimrlfn.arch.challenge and the challenge kind of model (slimrlfn.arch.kinds): entries of an NTIRE ESR repository
loaded through its own select_model, the shims around it, and one line for each entry that cannot load.

A repository made here covers every case; the NTIRE 2024 repository of ../shared is loaded as it is."""
from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from slimrlfn.arch.challenge import ChallengeRepo, RepositoryForward
from slimrlfn.arch.ref import ModelRef, load_model, resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.data.images import modcrop, read_image
from slimrlfn.arch.contract import tensor_to_uint8, uint8_to_tensor
from slimrlfn.metrics.quality import psnr_rgb_and_y
from tests.helpers import LOADING_2024


def test_the_ids_come_from_select_model(fake_repo):
    repo = ChallengeRepo(fake_repo)
    assert repo.ids() == list(range(9)) and not repo.reads_use_prune and repo.forwards == {8: "forward_team08"}


def test_an_entry_loads_through_its_own_code(fake_repo):
    entry = ChallengeRepo(fake_repo).load(0)
    assert (entry.name, entry.data_range, entry.tile) == ("00_Tiny", 255.0, None)
    state = torch.load(fake_repo / "model_zoo" / "team00_tiny.pth", weights_only=True)
    assert torch.equal(entry.model.body.bias, state["body.bias"])
    assert not entry.model.training and not any(p.requires_grad for p in entry.model.parameters())
    assert str(fake_repo) not in sys.path  # the environment is restored
    assert torch.load is not None and torch.nn.Module.cuda.__name__ == "cuda"


@pytest.mark.parametrize("model_id, reason", [
    (1, r"missing file models/team01_Gone.py in "),
    (2, r"missing file model_zoo/team02_missing.pth in "),
    (3, r"missing package 'some_package_nobody_has' \(pip install some-package-nobody-has\)"),
    (4, r"weights_only=False; refused"),
    (7, r"needs the Python package 'mamba_ssm', which runs on CUDA only"),
])
def test_an_entry_that_cannot_load_says_why_in_one_line(fake_repo, model_id, reason):
    with pytest.raises(UserError, match=rf"^entry {model_id}: .*{reason}") as info:
        ChallengeRepo(fake_repo).load(model_id)
    assert "\n" not in str(info.value)


def test_a_non_strict_load_is_recorded_and_its_print_kept(fake_repo):
    entry = ChallengeRepo(fake_repo).load(5)
    assert entry.non_strict_load == {"missing": ["body.bias"], "unexpected": ["old.weight"]}
    assert entry.printed == "loaded with strict=False\n"
    spec = resolve_model(challenge_repo=fake_repo, model_id=5)
    assert spec.loaded["non_strict_load"]["missing"] == ["body.bias"]


def test_cuda_calls_stay_on_the_cpu_and_torchvision_may_be_missing(fake_repo):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: .cuda() is not redirected")
    entry = ChallengeRepo(fake_repo).load(6)
    assert entry.model.fused and entry.model.body.weight.device.type == "cpu"


def test_an_entry_with_its_own_forward_in_run_is_forwarded_by_it(fake_repo):
    entry = ChallengeRepo(fake_repo).load(8)
    assert isinstance(entry.model, RepositoryForward) and entry.model.function_name == "forward_team08"
    x = torch.rand(1, 3, 10, 13)
    out = entry.model(x)
    assert out.shape == (1, 3, 40, 52) and torch.allclose(out[..., :4, :4] - 1000, entry.model.network(
        torch.nn.functional.pad(x, (0, 3, 0, 6), "reflect"))[..., :4, :4], atol=1e-3)
    assert not isinstance(ChallengeRepo(fake_repo).load(0).model, RepositoryForward)


def test_the_spec_of_an_entry_and_its_reference(fake_repo):
    spec = resolve_model(challenge_repo=fake_repo, model_id=0)
    assert (spec.kind, spec.result_name, spec.data_range, spec.config, spec.min_size) == \
        ("challenge", "00_Tiny", 255.0, None, 1)
    assert spec.ref.to_json() == {"kind": "challenge", "challenge_repo": str(fake_repo.resolve()), "model_id": 0}
    assert spec.ref.text() == f"challenge:{fake_repo.resolve()}#0"
    again = load_model(spec.ref.to_json())  # what a worker process does
    x = torch.rand(1, 3, 8, 8) * 255
    assert torch.equal(again.model(x), spec.model(x)) and again.result_name == "00_Tiny"
    assert load_model(spec.ref.text()).result_name == "00_Tiny" == ModelRef.parse(spec.ref.text()).absolute() \
        .replace(name="00_Tiny").args["name"]


@pytest.mark.parametrize("arguments, message", [
    (dict(model_id=99), r"--model_id 99: .* has no entry 99; it has 0, 1, 2, 3, 4, 5, 6, 7, 8"),
    (dict(), r"--challenge_repo: give --model_id N"),
    (dict(model_id=0, use_prune=True), r"--use_prune: .* does not read args.use_prune"),
    (dict(model_id=0, kwargs='{"a": 1}'), r"--kwargs: only for a model class"),
    (dict(model_id=0, data_range=1), r"--data_range: only for a model class"),
])
def test_bad_arguments_of_an_entry(fake_repo, arguments, message):
    with pytest.raises(UserError, match=message):
        resolve_model(challenge_repo=fake_repo, **arguments)


def test_a_folder_that_is_no_challenge_repository(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        ChallengeRepo(tmp_path / "nowhere")
    with pytest.raises(UserError, match="no test_demo.py in it"):
        ChallengeRepo(tmp_path)
    (tmp_path / "test_demo.py").write_text("def main():\n    pass\n")
    with pytest.raises(UserError, match="has no select_model"):
        ChallengeRepo(tmp_path)
    (tmp_path / "test_demo.py").write_text("def select_model(args, device:\n")
    with pytest.raises(UserError, match="not valid Python"):
        ChallengeRepo(tmp_path)


# -- the NTIRE 2024 ESR repository, as its users clone it -----------------------------------------


def test_the_2024_repository_entries(esr_repo):
    repo = ChallengeRepo(esr_repo)
    assert len(repo.ids()) == 35
    loaded, reasons = {}, {}
    for model_id, entry, reason in repo.entries():
        if entry is not None:
            loaded[model_id] = entry.data_range
        else:
            reasons[model_id] = reason
    assert loaded == LOADING_2024, reasons
    assert "mamba_ssm" in reasons[7] and "CUDA only" in reasons[7]
    assert reasons[18] == f"missing file model_zoo/team18_magicsr.pth in {esr_repo.resolve()}"
    assert reasons[5] == f"missing file models/team05_RLFF.py in {esr_repo.resolve()}"


@pytest.mark.parametrize("model_id", [0, 38])  # data_range 255 and 1
def test_sr_and_psnr_equal_the_repository_pipeline_bit_for_bit(esr_repo, set5_dir, model_id):
    util = ChallengeRepo(esr_repo).import_file("utils/utils_image.py")  # the repository's own, where it is
    spec = resolve_model(challenge_repo=esr_repo, model_id=model_id)
    lr_path, hr_path = set5_dir / "LR_bicubic" / "X4" / "butterflyx4.png", set5_dir / "HR" / "butterfly.png"
    with torch.no_grad():
        theirs = util.tensor2uint(spec.model(util.uint2tensor4(util.imread_uint(str(lr_path), 3), spec.data_range)),
                                  spec.data_range)
        ours = tensor_to_uint8(spec.model(uint8_to_tensor(read_image(lr_path), torch.device("cpu"), spec.data_range)),
                               spec.data_range)
    assert np.array_equal(ours, theirs)
    hr = modcrop(read_image(hr_path), 4)
    assert psnr_rgb_and_y(ours, hr, border=4)[0] == util.calculate_psnr(theirs, util.modcrop(hr, 4), border=4)
