"""The workbook on models that are not the zoo's: a user's class and two entries of a challenge repository made
here, through notebooks 01, 03, 04, 04b and 05 (``slimrlfn workbook --models ... --challenge_repo ...``)."""
from __future__ import annotations

import pytest

from tests.helpers import write_fake_challenge_repo, write_user_model
from tests.notebooks.harness import NOTEBOOKS, read_json, zoo_folder

LABELS = ["TinySR", "00_Tiny", "08_OwnForward"]


@pytest.fixture(scope="module")
def field_workbook(tmp_path_factory):
    from slimrlfn.data.sample import make_sample
    from slimrlfn.workbook import run_workbook

    root = tmp_path_factory.mktemp("field")
    make_sample(root / "data", progress=False)
    user = write_user_model(root / "mine" / "tiny_sr.py")
    repo = write_fake_challenge_repo(root / "fake_esr")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLIMRLFN_MODEL_ZOO", str(zoo_folder()))  # notebook 02 prunes the zoo's SlimRLFN
        patch.setenv("SLIMRLFN_OFFLINE", "1")
        summary = run_workbook(mode="quick", data_dir=root / "data", device="cpu", out_dir=root / "run",
                               figures_dir=root / "figures", notebooks_dir=NOTEBOOKS,
                               only=["01_", "02_", "03_", "04_", "04b_", "05_"],
                               models=[f"{user}:TinySR"], challenge_repo=repo, model_ids=[0, 8])
    assert {row["status"] for row in summary["notebooks"]} == {"ok"}, summary["notebooks"]
    assert summary["parameters"]["model_ids"] == [0, 8]
    return root / "run" / "results"


@pytest.mark.notebook
def test_every_stage_names_the_models(field_workbook):
    results = field_workbook
    assert [row["model"] for row in read_json(results / "01_model_definition.json")["counts"]] == LABELS
    assert set(read_json(results / "03_evaluation.json")["psnr"]) == set(LABELS)
    evaluated = read_json(results / "eval" / "results.json")
    assert {k: v["data_range"] for k, v in evaluated.items()} == {"TinySR": 1.0, "00_Tiny": 255.0, "08_OwnForward": 255.0}
    timing = read_json(results / "04_warmup_timing_study.json")
    assert {entry["label"] for entry in timing["cold_warm"].values()} == set(LABELS)
    backends = read_json(results / "04b_backends.json")
    assert {row["model"] for row in backends["rows"]} == set(LABELS)


@pytest.mark.notebook
def test_the_factsheet_of_a_field_scores_against_the_00_entry(field_workbook):
    sheet = read_json(field_workbook / "05_factsheet.json")
    assert sheet["models"] == LABELS
    values = sheet["factsheet"]["values"]
    assert values["00_Tiny"]["score_cold"]["value"] == pytest.approx(7.389, abs=1e-3)  # the baseline scores e^2
    assert values["TinySR"]["score_cold"]["value"] is not None
    assert values["TinySR"]["flops"]["value"] == pytest.approx((3 * 8 + 8 * 48) * 9 * 256 * 256 / 1e9)
