"""slimrlfn.prune.refit on networks of 1x1 convolutions whose best fit is known: the ridge solution (weights shrunk,
the bias not), each layer fit on the inputs the refit layers before it give, in forward order, and the report's MSE."""
from __future__ import annotations

from typing import List

import numpy as np
import pytest
import torch
import torch.nn as nn

from slimrlfn.prune.refit import refit_convolutions


def _conv(weights: List[List[float]], bias: List[float]) -> nn.Conv2d:
    """A 1x1 convolution with these weights (out x in) and bias."""
    conv = nn.Conv2d(len(weights[0]), len(weights), 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(weights).reshape(conv.weight.shape))
        conv.bias.copy_(torch.tensor(bias))
    return conv


def _batches(channels: int, count: int = 3, seed: int = 0) -> List[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.rand(2, channels, 6, 6, generator=generator) * 255 for _ in range(count)]


class _Chain(nn.Module):
    """Two 1x1 convolutions, defined late-first but run early-first."""

    def __init__(self, early: float, late: float) -> None:
        super().__init__()
        self.late = _conv([[late]], [0.0])
        self.early = _conv([[early]], [0.0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.late(self.early(x))


def test_the_refit_is_the_ridge_solution_with_the_bias_unpenalised():
    """Catches the ridge term with the wrong sign and the ridge applied to the bias column too."""
    teacher = nn.Sequential(_conv([[3.0, -2.0]], [5.0]))
    student = nn.Sequential(_conv([[0.1, 0.1]], [-300.0]))
    batches, ridge = _batches(2), 0.2
    refit_convolutions(student, teacher, batches, ridge=ridge)
    x = np.concatenate([b.permute(0, 2, 3, 1).reshape(-1, 2).numpy() for b in batches]).astype(np.float64)
    columns = np.hstack([x, np.ones((len(x), 1))])
    y = x @ np.array([3.0, -2.0]) + 5.0
    gram = columns.T @ columns
    penalty = ridge * np.diag(gram).copy()
    penalty[-1] = 0.0
    expected = np.linalg.solve(gram + np.diag(penalty), columns.T @ y)
    got = np.append(student[0].weight.detach().numpy().ravel(), student[0].bias.detach().numpy())
    assert got == pytest.approx(expected, rel=1e-4)
    assert np.abs(got[:2]).sum() < 0.9 * 5.0  # shrunk towards zero, not pushed away from it


def test_a_constant_target_is_fit_by_the_bias_whatever_the_ridge():
    """Catches the ridge shrinking the bias: a layer whose output is a constant keeps that constant under any ridge."""
    teacher = nn.Sequential(_conv([[0.0, 0.0]], [100.0]))
    student = nn.Sequential(_conv([[1.0, 1.0]], [0.0]))
    report = refit_convolutions(student, teacher, _batches(2), ridge=1.0)
    assert student[0].bias.item() == pytest.approx(100.0, rel=1e-5)
    assert student[0].weight.abs().max().item() < 1e-5
    assert report["0"]["after"] < 1e-6 < report["0"]["before"]


def test_each_layer_is_fit_on_the_inputs_the_refit_layers_before_it_give():
    """Catches a layer refit on the unpruned network's inputs: the error of the layer before it is then not corrected."""
    teacher, student = _Chain(early=2.0, late=3.0), _Chain(early=1.0, late=1.0)
    refit_convolutions(student, teacher, _batches(1), ridge=1e-9, names=["late"])
    assert student.early.weight.item() == 1.0  # not refit: its error is the next layer's to take up
    assert student.late.weight.item() == pytest.approx(6.0, rel=1e-4)
    x = _batches(1, count=1, seed=5)[0]
    with torch.no_grad():
        assert torch.allclose(student(x), teacher(x), rtol=1e-4, atol=1e-2)


def test_layers_are_refit_in_the_order_the_forward_pass_runs_them():
    """Catches a refit in the order modules are defined: a later layer is then fit on inputs that change after it."""
    teacher, student = _Chain(early=2.0, late=3.0), _Chain(early=1.0, late=1.0)
    lines: List[str] = []
    report = refit_convolutions(student, teacher, _batches(1), ridge=1e-9, log=lines.append)
    assert list(report) == ["early", "late"] and [line.split(":")[0] for line in lines] == ["refit early", "refit late"]
    assert (student.early.weight.item(), student.late.weight.item()) == pytest.approx((2.0, 3.0), rel=1e-4)


def test_the_report_is_the_mean_squared_error_over_every_output_value():
    """Catches the report's MSE divided by the output positions instead of the values (channels x positions)."""
    teacher = nn.Sequential(_conv([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.0, 1.0, 2.0]))
    student = nn.Sequential(_conv([[1.5, 0.0], [0.0, 1.0], [1.0, 0.5]], [0.0, 0.0, 2.0]))
    batches = _batches(2)
    with torch.no_grad():
        expected = float(torch.cat([((student(b) - teacher(b)) ** 2).flatten() for b in batches]).double().mean())
    report = refit_convolutions(student, teacher, batches, ridge=1e-9)
    assert report["0"]["before"] == pytest.approx(expected, rel=1e-5)
    assert report["0"]["after"] < 1e-3 * expected
