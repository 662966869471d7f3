"""slimrlfn.core.signal_stack: the thread's sigaltstack survives calls that replace it (OpenVINO does)."""
from __future__ import annotations

import ctypes

import pytest

from slimrlfn.core.signal_stack import _libc, _StackT, current_signal_stack, keep_signal_stack
from slimrlfn.deploy import backends as backends_module

linux_only = pytest.mark.skipif(_libc is None, reason="sigaltstack is read through glibc (Linux only)")
needs_openvino = pytest.mark.skipif(not backends_module.is_installed("openvino") or not backends_module.is_installed("onnx"),
                                    reason="openvino (deploy extra) not installed")


@linux_only
def test_a_replaced_stack_is_put_back():
    before = current_signal_stack()
    buffer = ctypes.create_string_buffer(65536)
    with keep_signal_stack():
        replacement = _StackT(ctypes.cast(buffer, ctypes.c_void_p).value, 0, 65536)
        assert _libc.sigaltstack(ctypes.byref(replacement), None) == 0
        assert current_signal_stack()[0] == replacement.ss_sp
    assert current_signal_stack() == before


@linux_only
@needs_openvino
def test_openvino_inference_leaves_the_signal_stack_alone():
    import torch

    from slimrlfn.arch.rlfn import SlimRLFN

    before = current_signal_stack()
    model = SlimRLFN(feature_channels=8, num_blocks=1, esa_channels=4).eval()
    runner = backends_module.build_backend("openvino", model, torch.device("cpu"), check=False, data_range=255.0)
    runner(torch.rand(1, 3, 24, 24) * 255)
    runner(torch.rand(1, 3, 32, 24) * 255)
    assert current_signal_stack() == before
