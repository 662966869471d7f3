"""slimrlfn.metrics.latency: the timer of each device (CUDA events skip without CUDA)."""
from __future__ import annotations

import pytest
import torch

from slimrlfn.metrics.latency import CudaEventTimer, PerfCounterTimer, make_timer


def test_cpu_timer_and_cuda_timer_choice():
    timer = make_timer(torch.device("cpu"))
    assert isinstance(timer, PerfCounterTimer)
    result, ms, wall_ms = timer(lambda a, b: a + b, 2, 3)
    assert result == 5 and ms >= 0.0 and ms == wall_ms
    with pytest.raises(ValueError):
        CudaEventTimer(torch.device("cpu"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_event_timer():
    timer = make_timer(torch.device("cuda"))
    assert isinstance(timer, CudaEventTimer)
    x = torch.ones(256, 256, device="cuda")
    result, ms, wall_ms = timer(torch.mm, x, x)
    assert result.is_cuda and ms > 0.0 and wall_ms > 0.0
