"""The bad-input sweep: every sub-command that writes, given an output it cannot write, an input that is missing or
unfit, or a value out of range, exits with status 2 and one line naming the argument (or file), prints no traceback,
and leaves the output tree exactly as it was.

Each case is one row of :data:`CASES`: an id, the command line (``{name}`` fields are files the fixture makes), and
the words the error line must hold. The immutable-folder family needs ``chattr +i`` (root on ext4 and most Linux
file systems) and is skipped with its reason elsewhere.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import torch

from slimrlfn.arch.checkpoints import config_path_for, save_checkpoint
from slimrlfn.arch.config import build_model
from slimrlfn.cli import main
from slimrlfn.data.images import write_image
from slimrlfn.data.pairs import write_pairs
from tests.helpers import textured_image

#: (id, argv, words the error line holds). ``{x}`` is a path the ``bench`` fixture made; ``{out}`` a path inside
#: the work folder that does not exist yet; ``{file}`` a regular file; ``{locked}`` an immutable folder.
CASES: List[Tuple[str, List[str], List[str]]] = []


def _case(case_id: str, argv: str, *needles: str) -> None:
    CASES.append((case_id, argv.split(), list(needles)))


_EVAL = "eval --checkpoint {ckpt} --data_dir {pairs} --no_images"
_TIME = "time --models {ckpt} --data_dir {pairs} --runs 1"
_PRUNE = ("prune --model {ckpt} --max_steps 1 --finetune_iterations 2 --batch_size 1 --lr_patch 16 "
          "--val_dir {pairs} --hr_dir {hr} --no_progress --latency_size 16 --latency_runs 1")
_TRAIN = "train --hr_dir {hr} --val_dir {pairs} --iterations 2 --batch_size 1 --lr_patch 16 --teacher none --no_progress"
_EXPORT = "export --checkpoint {ckpt} --check_data {pairs} --check_images 1"
_BACKENDS = "backends --models {ckpt} --sizes 16x16 --backends eager --rounds 1 --in_process"
_QAT = "qat --checkpoint {ckpt} --hr_dir {hr} --iterations 2 --batch_size 1 --lr_patch 16"
_FIELD = "field --models {ckpt} --data_dir {pairs} --runs 1 --valid_only --micro_iters 0"

# 1. outputs that cannot be written: a file where a folder is meant (or the reverse), a folder under a file,
#    an immutable folder
for _flag, _base in [("--save_dir", _EVAL), ("--out", _QAT), ("--out_dir", _PRUNE), ("--out_dir", _TRAIN),
                     ("--out_dir", "data pairs --hr_dir {hr}"), ("--out_dir", "data sample"),
                     ("--out_dir", "factsheet --results_dir {results}"),
                     ("--figures_dir", "factsheet --results_dir {results}"),
                     ("--figures_dir", _FIELD), ("--tables_dir", _FIELD),
                     ("--out_dir", "workbook --only 01"), ("--figures_dir", "workbook --only 01")]:
    _name = f"{_base.split()[0]}{'-' + _base.split()[1] if _base.split()[0] == 'data' else ''}{_flag}"
    _case(f"{_name}-is-a-file", f"{_base} {_flag} {{file}}", _flag, "file")
    _case(f"{_name}-under-a-file", f"{_base} {_flag} {{file}}/sub", _flag, "file")
    _case(f"{_name}-immutable", f"{_base} {_flag} {{locked}}/sub", _flag, "cannot write")
for _flag, _base in [("--out", _TIME), ("--json", "profile --models {ckpt} --size 32"), ("--out", _EXPORT),
                     ("--out", _BACKENDS), ("--out", _FIELD)]:
    _name = f"{_base.split()[0]}{_flag}"
    _case(f"{_name}-is-a-folder", f"{_base} {_flag} {{folder}}", _flag, "folder")
    _case(f"{_name}-under-a-file", f"{_base} {_flag} {{file}}/x.json", _flag, "file")
    _case(f"{_name}-immutable", f"{_base} {_flag} {{locked}}/x.json", _flag, "cannot write")

# 2. inputs that are missing or unfit
_case("eval-missing-data", "eval --checkpoint {ckpt} --data_dir {out}/nowhere --save_dir {out}/r", "--data_dir", "no such folder")
_case("eval-nan-weights", "eval --checkpoint {nan_ckpt} --data_dir {pairs} --save_dir {out}/r --backend eager",
      "ax4.png", "NaN")
_case("eval-truncated-checkpoint", "eval --checkpoint {truncated} --data_dir {pairs} --save_dir {out}/r", "truncated.pth")
_case("eval-malicious-checkpoint", "eval --checkpoint {malicious} --data_dir {pairs} --save_dir {out}/r", "malicious.pth")
_case("time-truncated-checkpoint", f"{_TIME} --out {{out}}/t.json".replace("{ckpt}", "{truncated}"), "truncated.pth")
_case("time-malicious-checkpoint", f"{_TIME} --out {{out}}/t.json".replace("{ckpt}", "{malicious}"), "malicious.pth")
_case("time-wrong-architecture", f"{_TIME} --out {{out}}/t.json".replace("{ckpt}", "{wrong_arch}"), "wrong_arch.pth")
_case("time-nan-weights", f"{_TIME} --out {{out}}/t.json".replace("{ckpt}", "{nan_ckpt}"), "nan.pth", "NaN")
_case("time-images-too-small", f"{_TIME} --out {{out}}/t.json".replace("{pairs}", "{small_pairs}"), "sx4.png", "smaller")
_case("time-missing-data", f"{_TIME} --out {{out}}/t.json".replace("{pairs}", "{out}/nowhere"), "--data_dir")
_case("qat-empty-hr-dir", f"{_QAT} --out {{out}}/q".replace("{hr}", "{empty}"), "--hr_dir")
_case("qat-corrupt-hr-dir", f"{_QAT} --out {{out}}/q".replace("{hr}", "{corrupt_hr}"), "bad.png")
_case("qat-missing-hr-dir", f"{_QAT} --out {{out}}/q".replace("{hr}", "{out}/nowhere"), "--hr_dir")
_case("qat-missing-val-dir", f"{_QAT} --out {{out}}/q --val_dir {{out}}/nowhere", "--val_dir", "nowhere")
_case("qat-iterations-0", f"{_QAT} --out {{out}}/q --iterations 0", "--iterations")
_case("eval-int8-model-without-int8", f"{_EVAL} --save_dir {{out}}/r --int8_model {{folder}}", "--int8_model")
_case("eval-int8-model-missing", f"{_EVAL} --save_dir {{out}}/r --backend openvino_int8 --int8_model {{out}}/none",
      "--int8_model")
_case("prune-empty-hr-dir", f"{_PRUNE} --out_dir {{out}}/p".replace("{hr}", "{empty}"), "--hr_dir")
_case("prune-corrupt-hr-dir", f"{_PRUNE} --out_dir {{out}}/p".replace("{hr}", "{corrupt_hr}"), "bad.png")
_case("prune-missing-val-dir", f"{_PRUNE} --out_dir {{out}}/p".replace("--val_dir {pairs}", "--val_dir {out}/nowhere"),
      "--val_dir")
_case("train-missing-hr-dir", f"{_TRAIN} --out_dir {{out}}/t".replace("{hr}", "{out}/nowhere"), "--hr_dir")
_case("train-missing-val-dir", f"{_TRAIN} --out_dir {{out}}/t".replace("--val_dir {pairs}", "--val_dir {out}/nowhere"),
      "--val_dir")
_case("data-pairs-tiny-image", "data pairs --hr_dir {tiny_hr} --out_dir {out}/d", "tiny.png", "3x3")
_case("data-pairs-missing-hr", "data pairs --hr_dir {out}/nowhere --out_dir {out}/d", "--hr_dir")
_case("export-tiny-check-image", f"{_EXPORT} --out {{out}}/m.onnx".replace("{pairs}", "{small_pairs}"), "sx4.png")
_case("export-missing-check-data", f"{_EXPORT} --out {{out}}/m.onnx".replace("{pairs}", "{out}/nowhere"), "--check_data")
_case("eval-zero-byte-hr", f"{_EVAL} --save_dir {{out}}/r/s".replace("{pairs}", "{zero_hr_pairs}"), "a.png",
      "cannot be decoded")
_case("eval-mismatched-data", f"{_EVAL} --save_dir {{out}}/r/s".replace("{pairs}", "{mismatched_pairs}"), "--data_dir",
      "a.png", "after modcrop")
_case("export-mismatched-check-data", f"{_EXPORT} --out {{out}}/x/m.onnx".replace("{pairs}", "{mismatched_pairs}"),
      "--check_data", "a.png")
_case("field-mismatched-data", f"{_FIELD} --out {{out}}/f.json".replace("{pairs}", "{mismatched_pairs}"), "a.png")
_case("field-zero-byte-hr", f"{_FIELD} --out {{out}}/f.json".replace("{pairs}", "{zero_hr_pairs}"), "a.png")
_case("field-missing-data", f"{_FIELD} --out {{out}}/f.json".replace("{pairs}", "{out}/nowhere"), "--data_dir")
_case("factsheet-missing-field", "factsheet --field {out}/nowhere.json --out_dir {out}/fs", "--field")

# 3. values out of range, or that nothing would read
_case("profile-size-0", "profile --models {ckpt} --size 0", "--size")
_case("profile-size-negative", "profile --models {ckpt} --size -8", "--size")
_case("profile-size-too-small", "profile --models {ckpt} --size 8", "--size")
_case("profile-config-without-checkpoint", "profile --models {ckpt} --config {ckpt_config}", "--config")
_case("profile-huge-config", "profile --checkpoint {ckpt} --config {huge_config}", "prune_channels")
_case("data-pairs-scale-0", "data pairs --hr_dir {hr} --out_dir {out}/d --scale 0", "--scale")
_case("data-pairs-scale-negative", "data pairs --hr_dir {hr} --out_dir {out}/d --scale -4", "--scale")
_case("workbook-only-nothing", "workbook --only zz --out_dir {out}/wb --figures_dir {out}/fig", "--only")
_case("eval-tile-0", f"{_EVAL} --save_dir {{out}}/r --tile 0", "--tile")
_case("time-runs-0", f"{_TIME} --out {{out}}/t.json --runs 0", "--runs")
_case("time-micro-size-too-small", "time --models {ckpt} --protocol micro --sizes 8x8 --runs 1 --out {out}/t.json",
      "--sizes")
_case("prune-channels-per-step-0", f"{_PRUNE} --out_dir {{out}}/p --channels_per_step 0", "--channels_per_step")
_case("prune-taylor-batches-0", f"{_PRUNE} --out_dir {{out}}/p --criterion taylor --taylor_batches 0",
      "--taylor_batches 0", "positive")
_case("train-iterations-0", f"{_TRAIN} --out_dir {{out}}/t".replace("--iterations 2", "--iterations 0"), "iterations")
_case("train-stop-at-negative", f"{_TRAIN} --out_dir {{out}}/t --stop_at -5", "stop_at", "iteration >= 1")
_case("train-max-minutes-0", f"{_TRAIN} --out_dir {{out}}/t --max_minutes 0", "max_minutes", "positive")
_case("train-lr-nan", f"{_TRAIN} --out_dir {{out}}/t --lr nan", "'lr'", "finite")
_case("backends-size-beyond-memory", f"{_BACKENDS} --out {{out}}/b.json".replace("--sizes 16x16", "--sizes 60000x60000"),
      "--sizes 60000x60000", "GiB")
_case("field-baseline-unknown", f"{_FIELD} --out {{out}}/f.json --baseline nosuch", "--baseline nosuch",
      "not a member that loads")
_case("field-pairs-unknown", f"{_FIELD} --out {{out}}/f.json --pairs a:b", "--pairs a:b", "not a member that loads")
_case("export-opset-5", f"{_EXPORT} --out {{out}}/x/m.onnx --opset 5", "--opset 5", "17 or newer")
_case("field-micro-iters-negative", f"{_FIELD} --out {{out}}/f.json --micro_iters -1", "--micro_iters -1")
_case("backends-rounds-0", f"{_BACKENDS} --out {{out}}/b.json".replace("--rounds 1", "--rounds 0"), "--rounds")
_case("field-runs-0", f"{_FIELD} --out {{out}}/f.json".replace("--runs 1", "--runs 0"), "--runs")
_case("eval-name-with-a-slash", f"{_EVAL} --save_dir {{out}}/r --name ../escaped", "--name", "plain name")
_case("eval-name-dot-dot", f"{_EVAL} --save_dir {{out}}/r --name ..", "--name", "plain name")
_case("eval-tolerance-negative", f"{_EVAL} --save_dir {{out}}/r --tolerance -1", "--tolerance", "positive")
_case("export-tolerance-negative", f"{_EXPORT} --out {{out}}/m.onnx --tolerance -1", "--tolerance", "positive")
_case("data-pairs-split-unknown", "data pairs --hr_dir {hr} --out_dir {out}/d --split x/../../leak", "--split",
      "valid, test, train")


def _immutable_folder(parent: Path) -> Tuple[Path, str]:
    """A folder nobody can write in (``chattr +i``), and '' -- or None and why it cannot be made here."""
    folder = parent / "locked"
    folder.mkdir()
    if shutil.which("chattr") is None:
        return None, "chattr is not installed"
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        return None, f"chattr +i failed here ({made.stderr.strip() or made.returncode})"
    return folder, ""


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """The inputs every case may name, made once; yields {name: path}. The immutable folder is unlocked at the end."""
    root = tmp_path_factory.mktemp("bad_input")
    torch.manual_seed(0)
    paths: Dict[str, Path] = {}
    model = build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1})
    paths["ckpt"] = save_checkpoint(model, root / "tiny.pth")
    paths["ckpt_config"] = config_path_for(paths["ckpt"])
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(float("nan"))
    paths["nan_ckpt"] = save_checkpoint(model, root / "nan.pth")
    data = paths["ckpt"].read_bytes()
    paths["truncated"] = root / "truncated.pth"
    paths["truncated"].write_bytes(data[: len(data) // 2])
    shutil.copy(paths["ckpt_config"], config_path_for(paths["truncated"]))
    paths["malicious"] = root / "malicious.pth"
    torch.save({"w": _Exploit()}, paths["malicious"])
    shutil.copy(paths["ckpt_config"], config_path_for(paths["malicious"]))
    paths["wrong_arch"] = save_checkpoint(build_model({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1}),
                                          root / "wrong_arch.pth")
    config = json.loads(config_path_for(paths["wrong_arch"]).read_text())
    config["config"] = {**config.get("config", config), "feature_channels": 12}
    config_path_for(paths["wrong_arch"]).write_text(json.dumps(config))
    paths["huge_config"] = root / "huge.json"
    paths["huge_config"].write_text(json.dumps({"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 1,
                                                "prune_channels": [10 ** 9, 10 ** 9]}))
    paths["pairs"] = root / "pairs"
    write_pairs([("a", textured_image(96, 80, 1)), ("b", textured_image(80, 96, 2))], paths["pairs"], progress=False)
    paths["zero_hr_pairs"] = root / "zero_hr_pairs"  # an HR image of zero bytes
    shutil.copytree(paths["pairs"], paths["zero_hr_pairs"])
    next(paths["zero_hr_pairs"].rglob("*_HR/a.png")).write_bytes(b"")
    paths["mismatched_pairs"] = root / "mismatched_pairs"  # an HR image that is not 4x its LR image
    shutil.copytree(paths["pairs"], paths["mismatched_pairs"])
    write_image(next(paths["mismatched_pairs"].rglob("*_HR/a.png")), textured_image(64, 64, 1))
    paths["small_pairs"] = root / "small_pairs"
    write_pairs([("s", textured_image(32, 32, 3))], paths["small_pairs"], progress=False)
    paths["hr"] = root / "hr"
    for i in range(2):
        write_image(paths["hr"] / f"img{i}.png", textured_image(96, 96, i))
    paths["tiny_hr"] = root / "tiny_hr"
    write_image(paths["tiny_hr"] / "ok.png", textured_image(40, 40, 4))
    write_image(paths["tiny_hr"] / "tiny.png", textured_image(3, 3, 5))
    paths["corrupt_hr"] = root / "corrupt_hr"
    write_image(paths["corrupt_hr"] / "good.png", textured_image(96, 96, 6))
    (paths["corrupt_hr"] / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    paths["empty"] = root / "empty"
    paths["empty"].mkdir()
    paths["results"] = root / "results"
    paths["results"].mkdir()
    paths["folder"] = root / "a_folder"
    paths["folder"].mkdir()
    paths["file"] = root / "a_file.txt"
    paths["file"].write_text("not a folder\n")
    locked, why = _immutable_folder(root)
    paths["locked"] = locked
    yield {"root": root, "why_no_lock": why, **paths}
    if locked is not None:
        subprocess.run(["chattr", "-i", str(locked)], check=False)


class _Exploit:
    """A pickle that would run a command when unpickled without weights_only."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/slimrlfn-exploit-ran",))


def _tree(root: Path) -> Dict[str, Tuple[int, int]]:
    """Every path under ``root`` with (size, mtime_ns) for files and (-1, 0) for folders."""
    listing = {}
    for path in sorted(root.rglob("*")):
        stat = path.stat()
        listing[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns) if path.is_file() else (-1, 0)
    return listing


@pytest.mark.parametrize("case_id,argv,needles", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(case_id, argv, needles, bench, capfd, monkeypatch,
                                                          tmp_path):
    if any("{locked}" in word for word in argv) and bench["locked"] is None:
        pytest.skip(f"no immutable folder: {bench['why_no_lock']}")
    work = tmp_path / "work"  # the current folder: default outputs (runs/, results/, exports/) land here
    work.mkdir()
    fields = {key: str(value) for key, value in bench.items() if isinstance(value, Path)}
    fields["out"] = str(work / "out")
    args = [word.format(**fields) for word in argv]
    monkeypatch.chdir(work)
    before_work, before_bench = _tree(work), _tree(bench["root"])
    capfd.readouterr()
    code = main(args)
    out, err = capfd.readouterr()
    text = out + err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert "Traceback" not in text, text
    assert code == 2, f"exit {code}\n{text}"
    assert lines and lines[-1].startswith("slimrlfn: error:"), text
    errors = [line for line in lines if line.startswith("slimrlfn: error:")]
    assert len(errors) == 1, text
    for needle in needles:
        assert needle in errors[0], errors[0]
    assert _tree(work) == before_work, f"the work folder changed: {sorted(set(_tree(work)) ^ set(before_work))}"
    assert _tree(bench["root"]) == before_bench, "an input folder changed"
    assert not Path("/tmp/slimrlfn-exploit-ran").exists(), "the malicious pickle ran"


def test_every_writing_sub_command_is_in_the_sweep():
    """A new sub-command that writes must join the table."""
    swept = {argv[0] + (f" {argv[1]}" if argv[0] == "data" else "") for _, argv, _ in CASES}
    assert swept >= {"eval", "time", "train", "prune", "profile", "data pairs", "data sample", "export", "backends",
                     "factsheet", "field", "workbook", "qat"}


def test_malicious_pickle_fixture_really_is_one(bench):
    """The malicious checkpoint would run its command if loaded without weights_only (so the sweep means something)."""
    with open(bench["malicious"], "rb") as handle:
        head = handle.read(2)
    assert head == b"PK"  # a torch zip archive
    assert "system" in repr(pickle.dumps(_Exploit()))
