"""slimrlfn.train.config: defaults, file, flags and --set in order; bad values in one line."""
import json

import pytest

from slimrlfn.core.errors import UserError
from slimrlfn.train.config import load_config


def test_config_file_flags_and_sets(tmp_path):
    (tmp_path / "c.yaml").write_text("hr_dirs: [a]\nlr: 1.0e-3\nmodel: {arch: slimrlfn, num_blocks: 2}\nema_decay: 0.9\n")
    config = load_config(tmp_path / "c.yaml", {"iterations": 7, "loss": None},
                         ["lr=2e-4", "model.feature_channels=16", "teacher=none", "use_edge=true", "betas=[0.9,0.999]"])
    assert config.hr_dirs == ["a"] and config.iterations == 7 and config.lr == 2e-4 and config.ema_decay == 0.9
    assert config.model == {"arch": "slimrlfn", "num_blocks": 2, "feature_channels": 16}
    assert config.teacher is None and config.use_edge is True and config.betas == [0.9, 0.999]
    (tmp_path / "c.json").write_text(json.dumps({"batch_size": 3}))
    assert load_config(tmp_path / "c.json").batch_size == 3


def test_a_runs_own_config_json_is_taken_as_the_settings_it_ran_with(tmp_path):
    """`train --config RUN/config.json` repeats that run: its settings sit under "config", beside the run's record."""
    from dataclasses import asdict

    ran = load_config(None, {"iterations": 9, "batch_size": 3}, ["model.feature_channels=16"])
    (tmp_path / "config.json").write_text(json.dumps({"config": asdict(ran), "model_config": {"arch": "slimrlfn"},
                                                      "rep": None, "world_size": 1, "device_info": {}}))
    assert load_config(tmp_path / "config.json") == ran
    assert load_config(tmp_path / "config.json", {"iterations": 4}).iterations == 4


@pytest.mark.parametrize("sets, match", [
    (["learning_rate=1"], "unknown config key 'learning_rate'"),
    (["iterations=ten"], "config key 'iterations': expected int"),
    (["use_edge=maybe"], "config key 'use_edge'"),
    (["lr"], "expected key=value"),
    (["batch_size=0"], "'batch_size': expected a positive integer"),
])
def test_bad_config_values(sets, match):
    with pytest.raises(UserError, match=match):
        load_config(None, None, sets)
