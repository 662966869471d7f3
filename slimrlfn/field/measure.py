"""What a field member is, whatever the timing protocol: counts on NTIRE's 1x3x256x256 input, and PSNR per data part.

``num_parameters`` (M), ``flops`` (G, fvcore as ``test_demo.py`` counts them), ``fvcore_uncounted`` (the
operators fvcore skipped that are not element-wise: where there are any, the FLOPs are an undercount and
``flops_undercount`` is True), ``activations`` (M) and ``num_conv`` as NTIRE's ``get_model_activation``;
``psnr`` ``{part label: mean PSNR}`` (RGB, border 4, SR rounded to uint8, HR mod-cropped; dB), with
``psnr_y`` beside it, through the same path as ``slimrlfn eval`` (eager, whole images unless the entry tiles).
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

import torch

from slimrlfn.arch.spec import ModelSpec
from slimrlfn.data.pairs import find_pairs
from slimrlfn.evaluate.ntire import evaluate_split
from slimrlfn.metrics.counts import activations_and_convs, count_parameters, fvcore_count, organisers_model

__all__ = ["measure_member"]


def measure_member(spec: ModelSpec, parts: List[Dict[str, Any]], device: torch.device,
                   threads: Optional[int] = None) -> Dict[str, Any]:
    """The counts and PSNRs of ``spec`` (see the module docstring), measured in this process on ``device``."""
    saved = torch.get_num_threads()
    begin = time.time()
    try:
        if threads:
            torch.set_num_threads(threads)
        model = spec.model.eval()
        counted = organisers_model(model)  # an entry's network, not the padding of its own forward function
        fvcore = fvcore_count(counted)
        activations, convs = activations_and_convs(counted)
        measures: Dict[str, Any] = {
            "num_parameters": count_parameters(counted) / 1e6, "flops": fvcore["flops"] / 1e9,
            "fvcore_skipped": fvcore["skipped"], "fvcore_uncounted": fvcore["uncounted"],
            "flops_undercount": bool(fvcore["uncounted"]), "activations": activations / 1e6, "num_conv": convs,
            "psnr": {}, "psnr_y": {},
        }
        model = model.to(device)
        for part in parts:
            pairs = find_pairs(part["data_dir"], part["split"])
            result = evaluate_split(model, pairs, device, "part", tile=spec.tile, progress=False,
                                    data_range=spec.data_range, min_size=spec.min_size)
            measures["psnr"][part["label"]] = result["part_ave_psnr"]
            measures["psnr_y"][part["label"]] = result["part_ave_psnr_y"]
        model.to("cpu")
    finally:
        torch.set_num_threads(saved)
    measures["seconds"] = round(time.time() - begin, 2)
    return measures
