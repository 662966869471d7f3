"""slimrlfn.train.state: the learning-rate schedule, RNG states that load weights-only, the EMA."""
import numpy as np
import pytest
import torch

from slimrlfn.arch.reparam import build_train_model
from slimrlfn.train.state import ModelEMA, rng_state, set_rng_state, warmup_cosine

TINY_MODEL = {"arch": "slimrlfn", "feature_channels": 8, "num_blocks": 2, "prune_channels": [6, 8, 8, 8],
              "esa_channels": 4}


def test_warmup_cosine():
    factor = warmup_cosine(iterations=110, warmup=10, lr=1e-3, min_lr=1e-5)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(10) == pytest.approx(1.0) and factor(60) == pytest.approx(0.505)
    assert factor(110) == pytest.approx(0.01) and factor(500) == pytest.approx(0.01)


def test_rng_state_survives_weights_only(tmp_path):
    state = rng_state(torch.device("cpu"))
    torch.save(state, tmp_path / "rng.pt")
    expected = (np.random.rand(), torch.rand(1).item(), __import__("random").random())
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True), torch.device("cpu"))
    assert (np.random.rand(), torch.rand(1).item(), __import__("random").random()) == expected


def test_ema_tracks_the_model():
    model = build_train_model(TINY_MODEL)
    ema = ModelEMA(model, decay=0.5)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    before = next(ema.module.parameters()).clone()
    ema.update(model)  # first update: decay min(0.5, 2/11)
    assert torch.allclose(next(ema.module.parameters()), before + 9 / 11)
    assert not next(ema.module.parameters()).requires_grad
