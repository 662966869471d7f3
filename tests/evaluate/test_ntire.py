import json

import numpy as np
import pytest
import torch

from slimrlfn.arch.checkpoints import save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.arch.ref import resolve_model
from slimrlfn.core.errors import UserError
from slimrlfn.data.images import modcrop, read_image, write_image
from slimrlfn.data.pairs import find_pairs
from slimrlfn.arch.contract import tensor_to_uint8
from slimrlfn.deploy.forward import forward_image
from slimrlfn.evaluate.ntire import evaluate, evaluate_split
from slimrlfn.evaluate.results import format_results_table, load_results
from slimrlfn.metrics.quality import psnr

OFFICIAL_KEYS = {"valid_runtime", "valid_psnr", "valid_ave_runtime", "valid_ave_psnr", "valid_memory",
                 "flops", "num_parameters", "activations", "num_conv"}


@pytest.fixture
def tiny_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1, "esa_channels": 4})
    return save_checkpoint(model, tmp_path / "tiny.pth")


def test_results_have_the_official_keys_and_merge(tiny_pairs, tiny_checkpoint, tmp_path):
    save = tmp_path / "out"
    entry = evaluate(resolve_model(checkpoint=tiny_checkpoint), tiny_pairs, save, include_test=True,
                     device="cpu", with_ssim=True, progress=False)
    assert OFFICIAL_KEYS | {"test_psnr", "test_ave_psnr", "valid_ssim", "valid_ave_ssim", "valid_psnr_y"} <= set(entry)
    assert len(entry["valid_psnr"]) == 2 and len(entry["test_runtime"]) == 1
    assert entry["valid_ave_psnr"] == pytest.approx(np.mean(entry["valid_psnr"]))
    assert entry["device_info"]["device_type"] == "cpu" and entry["memory_kind"] == "cpu_process_peak_rss"
    sr = read_image(save / "tiny" / "valid" / "a.png")
    hr = modcrop(read_image(find_pairs(tiny_pairs)[0].hr_path), 4)
    assert psnr(sr, hr, border=4) == pytest.approx(entry["valid_psnr"][0])
    evaluate(resolve_model(checkpoint=tiny_checkpoint, name="second"), tiny_pairs, save, device="cpu", progress=False)
    results = json.loads((save / "results.json").read_text())
    assert list(results) == ["tiny", "second"]
    table = (save / "results.txt").read_text().splitlines()
    assert table[0].split("\t")[0].strip() == "Model" and len(table) == 3
    assert not [p for p in save.iterdir() if p.name.startswith(".")]


def test_an_existing_entry_is_not_overwritten_by_accident(tiny_pairs, tiny_checkpoint, tmp_path):
    save = tmp_path / "out"
    spec = resolve_model(checkpoint=tiny_checkpoint)
    first = evaluate(spec, tiny_pairs, save, device="cpu", progress=False)
    with pytest.raises(UserError, match="already has an entry 'tiny'; pass --overwrite"):
        evaluate(spec, tiny_pairs, save, device="cpu", progress=False)
    assert load_results(save)["tiny"]["valid_psnr"] == first["valid_psnr"]
    evaluate(spec, tiny_pairs, save, device="cpu", overwrite=True, progress=False)


def test_a_failing_split_leaves_no_half_written_output(tiny_pairs, tiny_checkpoint, tmp_path):
    save = tmp_path / "out"
    write_image(tiny_pairs / "DIV2K_LSDIR_valid_HR" / "b.png", np.zeros((40, 40, 3), np.uint8))
    with pytest.raises(UserError, match=r"HR image .*b.png: 40x40 after modcrop, expected 96x80"):
        evaluate(resolve_model(checkpoint=tiny_checkpoint), tiny_pairs, save, device="cpu", progress=False)
    assert not save.exists() or not any(save.iterdir())


def test_lr_smaller_than_the_model_takes(tiny_pairs, tiny_checkpoint):
    write_image(tiny_pairs / "DIV2K_LSDIR_valid_LR" / "ax4.png", np.zeros((12, 20, 3), np.uint8))
    model = resolve_model(checkpoint=tiny_checkpoint).model
    with pytest.raises(UserError, match=r"ax4.png: 20x12 is smaller than the 15x15"):
        evaluate_split(model, find_pairs(tiny_pairs), torch.device("cpu"), progress=False, data_range=255.0)


def test_tiled_forward_covers_every_pixel_and_matches_a_pointwise_model():
    pointwise = torch.nn.Upsample(scale_factor=4, mode="nearest")  # no receptive field across tiles
    x = torch.rand(1, 3, 40, 48) * 255
    tiled = forward_image(pointwise, x, tile=24, tile_overlap=8)
    assert torch.allclose(tiled, pointwise(x), atol=1e-4)
    model = build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}).eval()
    with torch.no_grad():
        square = x[..., :40]
        assert torch.equal(forward_image(model, square, tile=64), model(square))  # one tile = the whole image


def test_tensor_to_uint8_clamps_and_rounds():
    t = torch.tensor([[[[-3.0, 0.4, 0.6, 254.5, 300.0]]]]).repeat(1, 3, 1, 1)
    assert tensor_to_uint8(t, 255.0)[0, :, 0].tolist() == [0, 0, 1, 254, 255]


def test_results_table_switches_to_test_columns_only_when_all_have_them():
    base = {"valid_ave_psnr": 30.0, "valid_ave_runtime": 1.0, "valid_memory": 2.0, "num_parameters": 0.2,
            "flops": 12.0, "activations": 70.0, "num_conv": 51}
    with_test = dict(base, test_ave_psnr=27.0, test_ave_runtime=3.0)
    assert "Test PSNR" in format_results_table({"a": with_test})
    assert "Test PSNR" not in format_results_table({"a": with_test, "b": base})


def test_model_id_selection_follows_test_demo(official_zoo):
    assert resolve_model(model_id=0).result_name == "00_RLFN_baseline"
    assert resolve_model(model_id=21).result_name == "21_SlimRLFN"
    assert resolve_model(model_id=21, use_prune=True).result_name == "21_SlimRLFN_prune"


SET5_REFERENCE = {  # Set5 x4, crop border 4, mean of 5 images (../shared/README.md)
    "rlfn": (30.206, 32.097),
    "slimrlfn": (30.068, 31.975),
    "slimrlfn_prune": (30.046, 31.950),
}


@pytest.mark.shared
@pytest.mark.parametrize("name", list(SET5_REFERENCE))
def test_set5_psnr_reproduces_the_reference(official_zoo, set5_dir, tmp_path, name):
    data = tmp_path / "set5"
    for hr in sorted((set5_dir / "HR").glob("*.png")):
        (data / "DIV2K_LSDIR_valid_HR").mkdir(parents=True, exist_ok=True)
        (data / "DIV2K_LSDIR_valid_LR").mkdir(parents=True, exist_ok=True)
        (data / "DIV2K_LSDIR_valid_HR" / hr.name).write_bytes(hr.read_bytes())
        lr = set5_dir / "LR_bicubic" / "X4" / f"{hr.stem}x4.png"
        (data / "DIV2K_LSDIR_valid_LR" / lr.name).write_bytes(lr.read_bytes())
    entry = evaluate(resolve_model(model=name), data, tmp_path / "out", device="cpu", save_images=False, progress=False)
    rgb, y = SET5_REFERENCE[name]
    assert entry["valid_ave_psnr"] == pytest.approx(rgb, abs=0.005)
    assert entry["valid_ave_psnr_y"] == pytest.approx(y, abs=0.005)


#: Set14 references of ../shared/README.md (the official model code), reached through the challenge repository.
SET14_REFERENCE = {0: ("00_RLFN_baseline", 26.791), 21: ("21_SlimRLFN", 26.780)}


@pytest.mark.shared
@pytest.mark.parametrize("model_id", list(SET14_REFERENCE))
def test_set14_through_the_challenge_repository_reproduces_the_reference(esr_repo, set14_dir, tmp_path, model_id):
    """The benchmark layout (HR/ + LR_bicubic/X4/, bridge grayscale) read directly, the entry as select_model gives it."""
    spec = resolve_model(challenge_repo=esr_repo, model_id=model_id)
    entry = evaluate(spec, set14_dir, tmp_path / "out", device="cpu", backend="eager", save_images=False, progress=False)
    name, reference = SET14_REFERENCE[model_id]
    assert spec.result_name == name and len(entry["valid_names"]) == 14
    assert entry["valid_ave_psnr"] == pytest.approx(reference, abs=0.005)
