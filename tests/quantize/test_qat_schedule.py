"""QAT's loop without NNCF: the learning rate's cosine (over the iterations, or over a --minutes cap when that end is
nearer, on a fake clock), what a resumed run must share with the one it resumes (seed, keep_fp32, seconds spent), and
the model's contract range passed through ``slimrlfn qat``.

NNCF's parts (quantizing, restoring, exporting) and the training step are fakes here: the step records the learning
rate it was given and advances the fake clock; tests/quantize/test_qat.py runs the real thing."""
from __future__ import annotations

import copy
import json
import math
from types import SimpleNamespace

import pytest

from slimrlfn.cli import main
from slimrlfn.core.errors import UserError
from slimrlfn.deploy.int8 import QAT_IR, QAT_RECORD
from slimrlfn.quantize import command, qat
from slimrlfn.quantize.qat import RUN_FILE, QatSettings, run_qat
from tests.helpers import tiny_slimrlfn, write_user_model

LR = 1e-3


def _factor(progress: float) -> float:
    """The documented schedule: cosine from 1 to 0.1 x over progress 0..1 (written out, not taken from the code)."""
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@pytest.fixture
def fake(monkeypatch):
    """QAT's loop with NNCF, OpenVINO and the training step faked; every step costs ``fake.cost`` fake seconds."""
    seen = SimpleNamespace(lrs=[], now=0.0, cost=10.0)

    class Clock:
        @staticmethod
        def perf_counter():
            return seen.now

        @staticmethod
        def time():
            return seen.now

    class Step:
        def __init__(self, model, optimizer, loss_fn, device, teacher=None):
            self.optimizer = optimizer

        def __call__(self, lr, hr):
            seen.lrs.append(self.optimizer.param_groups[0]["lr"])
            seen.now += seen.cost
            return {"total": 1.0}

    def restore(model, run, state):
        quantized = copy.deepcopy(model)
        quantized.load_state_dict(state["model"])
        return quantized

    monkeypatch.setattr(qat, "time", Clock)
    monkeypatch.setattr(qat, "TrainStep", Step)
    monkeypatch.setattr(qat, "_nncf", lambda: SimpleNamespace(torch=SimpleNamespace(get_config=lambda model: {})))
    monkeypatch.setattr(qat, "prepare_qat", lambda model, calibration=None, *, data_range, keep_fp32=():
                        copy.deepcopy(model))
    monkeypatch.setattr(qat, "_restore", restore)
    monkeypatch.setattr(qat, "_export", lambda out, quantized, data_range: (out / QAT_IR).write_text("fake"))
    return seen


def _settings(**changes) -> QatSettings:
    return QatSettings(**{"iterations": 5, "lr": LR, "batch_size": 1, "lr_patch": 16, "save_every": 2, **changes})


def _run(photos, out, settings, **kwargs):
    return run_qat(tiny_slimrlfn(), [photos], out, settings, progress=False, data_range=255.0, **kwargs)


def _interrupt_at(step: int):
    def on_save(done):
        if done == step:
            raise KeyboardInterrupt
    return on_save


def test_the_learning_rate_decays_by_cosine_to_a_tenth_over_the_iterations(fake, photos, tmp_path):
    """Catches a QAT learning rate that never decays (progress by integer division, or the schedule not applied)."""
    fake.cost = 0.0
    record = _run(photos, tmp_path / "run", _settings())
    assert record["iterations"] == 5
    assert fake.lrs == pytest.approx([LR * _factor(t / 5) for t in range(5)], rel=1e-9)
    assert fake.lrs[0] == pytest.approx(LR) and fake.lrs[-1] < 0.2 * LR


def test_a_minutes_cap_stops_the_run_and_the_cosine_follows_it_when_it_is_the_nearer_end(fake, photos, tmp_path):
    """Catches --minutes read as seconds, and a cosine that follows the farther end (lr still high when cut off)."""
    record = _run(photos, tmp_path / "run", _settings(iterations=100, minutes=1.0))
    assert record["iterations"] == 6 and record["seconds"] == pytest.approx(60.0)  # 10 fake seconds a step
    assert fake.lrs == pytest.approx([LR * _factor(10.0 * t / 60.0) for t in range(6)], rel=1e-9)


def test_a_resumed_run_counts_the_seconds_it_already_spent_against_the_cap(fake, photos, tmp_path):
    """Catches a resumed run that starts its --minutes cap (and its cosine) again from zero."""
    settings = _settings(iterations=100, minutes=1.0)
    with pytest.raises(KeyboardInterrupt):
        _run(photos, tmp_path / "run", settings, on_save=_interrupt_at(2))
    fake.lrs.clear()
    fake.now = 5000.0  # another process: its clock has another origin
    record = _run(photos, tmp_path / "run", settings)
    assert record["iterations"] == 6 and record["seconds"] == pytest.approx(60.0)
    assert fake.lrs == pytest.approx([LR * _factor(s / 60.0) for s in (20.0, 30.0, 40.0, 50.0)], rel=1e-9)


def test_a_run_of_another_seed_is_neither_resumed_nor_returned_as_finished(fake, photos, tmp_path):
    """Catches the seed left out of a run's identity: the patches of iteration t depend on it."""
    with pytest.raises(KeyboardInterrupt):
        _run(photos, tmp_path / "cut", _settings(), on_save=_interrupt_at(2))
    with pytest.raises(UserError, match=r"--out .*cut: holds a QAT run with other settings \(seed\)"):
        _run(photos, tmp_path / "cut", _settings(seed=1))
    finished = _run(photos, tmp_path / "done", _settings())
    assert finished["settings"]["seed"] == 0
    with pytest.raises(UserError, match=r"other settings \(seed\)"):
        _run(photos, tmp_path / "done", _settings(seed=1))
    assert json.loads((tmp_path / "done" / QAT_RECORD).read_text()) == finished


def test_a_mixed_precision_run_resumes_under_the_same_keep_fp32(fake, photos, tmp_path):
    """Catches keep_fp32 compared as a tuple with the list its run.json holds: such a run could never resume."""
    settings = _settings(keep_fp32=("c5/conv2d/5",))
    with pytest.raises(KeyboardInterrupt):
        _run(photos, tmp_path / "run", settings, on_save=_interrupt_at(2))
    assert json.loads((tmp_path / "run" / RUN_FILE).read_text())["settings"]["keep_fp32"] == ["c5/conv2d/5"]
    fake.lrs.clear()
    record = _run(photos, tmp_path / "run", settings)
    assert record["iterations"] == 5 and len(fake.lrs) == 3
    assert _run(photos, tmp_path / "run", settings) == record  # finished: returned as it is


@pytest.mark.parametrize("name, changes", [("lr", {"lr": 0.0}), ("iterations", {"iterations": 0}),
                                           ("minutes", {"minutes": 0.0}), ("distill_weight", {"distill_weight": -1})])
def test_settings_that_would_train_nothing_are_refused(name, changes):
    """Catches a learning rate of 0 (or no iterations, or a zero cap) accepted: a run that changes nothing."""
    with pytest.raises(UserError, match=rf"--{name} .*: expected a positive value"):
        QatSettings(**changes)


def test_the_command_fine_tunes_at_the_model_contract_range(photos, tmp_path, monkeypatch, capsys):
    """Catches `slimrlfn qat` passing 255 for a model whose contract is [0, 1]."""
    write_user_model(tmp_path / "nets" / "tiny_sr.py")
    monkeypatch.chdir(tmp_path)
    calls = []

    def fake_run_qat(model, hr_dirs, out, settings, calibration, source, *, data_range):
        calls.append(data_range)
        return {"iterations": 1, "seconds": 6.0, "threads": 1, "loss_first": 1.0, "loss_last": 0.5}

    monkeypatch.setattr(command, "run_qat", fake_run_qat)
    assert main(["qat", "--model", "nets/tiny_sr.py:TinySR", "--kwargs", '{"channels": 8}', "--hr_dir", str(photos),
                 "--out", str(tmp_path / "q")]) == 0
    assert calls == [1.0]
    assert "1 QAT iterations" in capsys.readouterr().out
