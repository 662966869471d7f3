"""The workbook's evaluation of a challenge entry beside the repository's own pipeline, image by image.

For entry ``model_id`` of a :class:`~slimrlfn.arch.challenge.ChallengeRepo` and LR/HR pairs:

- **ours**: the entry as :func:`~slimrlfn.arch.ref.load_model` gives it, through
  :func:`~slimrlfn.evaluate.ntire.evaluate_split` (the ``slimrlfn eval`` path: ``uint8_to_tensor``,
  ``forward_image`` with the entry's tile, ``tensor_to_uint8``, PSNR), its SR PNGs read back;
- **theirs**: a second instance from the repository's ``select_model``, and the repository's own
  ``utils/utils_image.py`` (``imread_uint``, ``uint2tensor4``, ``tensor2uint``, ``modcrop``,
  ``calculate_psnr``) and ``test_demo.py``'s ``forward`` (or the entry's own forward function).

:func:`compare_outputs` gives, per image, the max abs difference of the float SR tensors (in the model's
range), whether the uint8 SR images are equal, and both PSNRs. :func:`compare_counts` gives params and
fvcore FLOPs as ``test_demo.py`` computes them (``FlopCountAnalysis(model, torch.rand(1, 3, 256,
256)).total()``) beside :func:`~slimrlfn.metrics.counts.profile_model`'s, and the operators fvcore skipped.
Both sides run on the CPU, eager, in this process.
"""
from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np
import torch
import torch.nn as nn
from fvcore.nn import FlopCountAnalysis  # the call test_demo.py makes

from slimrlfn.arch.challenge import ChallengeRepo, RepositoryForward
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.data.images import read_image
from slimrlfn.data.pairs import ImagePair
from slimrlfn.arch.contract import uint8_to_tensor
from slimrlfn.deploy.forward import forward_image
from slimrlfn.evaluate.ntire import evaluate_split
from slimrlfn.metrics.counts import profile_model

__all__ = ["compare_counts", "compare_outputs"]

_CPU = torch.device("cpu")


def _their_model(repo: ChallengeRepo, model_id: int) -> nn.Module:
    model = repo.load(model_id, _CPU).model
    return model.network if isinstance(model, RepositoryForward) else model


@torch.no_grad()
def compare_outputs(repo: ChallengeRepo, model_id: int, spec: ModelSpec, pairs: Sequence[ImagePair]) -> List[Dict[str, Any]]:
    """One dict per pair: ``{"name", "max_abs_float", "uint8_equal", "psnr_ours", "psnr_theirs"}``.

    ``spec`` is entry ``model_id`` as the workbook loaded it; ``max_abs_float`` is in the entry's range
    ([0, data_range]), 0.0 when both pipelines compute the same thing; PSNRs in dB (RGB, border 4).
    """
    util = repo.import_file("utils/utils_image.py")
    demo = repo.import_file("test_demo.py")
    their_forward = getattr(demo, repo.forwards.get(model_id, "forward"))
    their_model = _their_model(repo, model_id)
    with tempfile.TemporaryDirectory() as image_dir:
        ours = evaluate_split(spec.model, pairs, _CPU, image_dir=image_dir, tile=spec.tile, progress=False,
                              data_range=spec.data_range, min_size=spec.min_size)
        rows = []
        for pair, psnr_ours in zip(pairs, ours["valid_psnr"]):
            lr_theirs = util.uint2tensor4(util.imread_uint(str(pair.lr_path), n_channels=3), spec.data_range)
            sr_theirs = their_forward(lr_theirs, their_model, spec.tile)
            sr_ours = forward_image(spec.model, uint8_to_tensor(read_image(pair.lr_path), _CPU, spec.data_range),
                                    spec.tile)
            max_abs = float((sr_ours - sr_theirs).abs().max())  # before tensor2uint, which clamps in place
            img_theirs = util.tensor2uint(sr_theirs, spec.data_range)
            hr = util.modcrop(util.imread_uint(str(pair.hr_path), n_channels=3).squeeze(), 4)
            img_ours = read_image(Path(image_dir) / f"{pair.name}.png")
            rows.append({"name": pair.name, "max_abs_float": max_abs, "uint8_equal": bool(np.array_equal(img_ours, img_theirs)), "psnr_ours": float(psnr_ours),
                         "psnr_theirs": float(util.calculate_psnr(img_theirs, hr, border=4))})
    return rows


@torch.no_grad()
def compare_counts(repo: ChallengeRepo, model_id: int, spec: ModelSpec) -> Dict[str, Any]:
    """``{"params_ours", "params_theirs"}`` (M), ``{"flops_ours", "flops_theirs"}`` (G, fvcore on
    1x3x256x256), ``"fvcore_skipped"`` ({operator: calls}) and ``"fvcore_uncounted"`` (the skipped ones
    that are not element-wise: the FLOPs are an undercount when it is not empty)."""
    their_model = _their_model(repo, model_id)  # select_model's network, as test_demo.py counts it
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        level = logging.getLogger("fvcore").level
        logging.getLogger("fvcore").setLevel(logging.ERROR)
        try:
            flops_theirs = FlopCountAnalysis(their_model, torch.rand(1, 3, 256, 256)).total() / 10 ** 9
        finally:
            logging.getLogger("fvcore").setLevel(level)
    counts = profile_model(spec.model)
    return {"params_ours": counts["num_parameters"],
            "params_theirs": sum(p.numel() for p in their_model.parameters()) / 10 ** 6,
            "flops_ours": counts["flops"], "flops_theirs": flops_theirs,
            "fvcore_skipped": counts["fvcore_skipped"], "fvcore_uncounted": counts["fvcore_uncounted"]}
