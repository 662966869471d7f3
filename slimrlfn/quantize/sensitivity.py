"""Which convolutions int8 hurts most: a per-convolution ranking for mixed-precision QAT.

Post-training int8 (the starting point of :mod:`slimrlfn.quantize.qat`) of SlimRLFN loses 0.33 dB on Set5 in the
PyTorch fake-quantized model, and the loss is far from even: keeping only the 1x1 ``c5`` of the last block in fp32
takes back about a third of it. :func:`rank_convolutions` measures that for every convolution: the model is quantized
as QAT starts (``nncf.quantize``, :data:`~slimrlfn.quantize.qat.QAT_SETTINGS`) with that one convolution also left in
fp32, and the PSNR drop against the fp32 model (:func:`slimrlfn.deploy.int8.psnr_drop`, RGB, border = scale) is
measured on check pairs. The convolutions are ranked by the dB they take back; then the top 1, 2, 3, ... are kept in
fp32 together, which gives the frontier of drop against convolutions kept. ``slimrlfn qat --keep_fp32 NAME ...``
fine-tunes with the chosen ones kept in fp32 and ``bench/deploy/int8_report.py`` measures what they cost in speed.

Check pairs are made from HR photos (mod-cropped, MATLAB bicubic / scale): by default the calibration photos, so that
the choice is not made on the images the gate is measured on (Set5, Set14). One quantization and check of SlimRLFN
takes about 10 s on 2 threads of this CPU, so ranking its 49 inner convolutions takes about 8 minutes.

The results file (:data:`SENSITIVITY_FILE` in ``--out``) is rewritten atomically after every measurement, and a run
started again with the same model, calibration and check photos goes on from the measurements it holds.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import torch
from torch import nn

from slimrlfn.arch.checkpoints import weights_digest
from slimrlfn.core.errors import UserError
from slimrlfn.core.files import PathLike, atomic_write_json
from slimrlfn.core.outputs import check_output_dir
from slimrlfn.core.progress import tqdm
from slimrlfn.data.bicubic import imresize_matlab
from slimrlfn.data.images import list_images, modcrop, read_image
from slimrlfn.data.sample import sample_photos
from slimrlfn.deploy.int8 import calibration_inputs, psnr_drop
from slimrlfn.metrics.counts_cache import package_version
from slimrlfn.quantize.qat import QAT_SETTINGS, convolution_names, quantize_for_qat

__all__ = ["DEFAULT_TOP", "SENSITIVITY_FILE", "check_pairs_from_photos", "rank_convolutions"]

SENSITIVITY_FILE = "sensitivity.json"
#: How many of the top-ranked convolutions are kept in fp32 together for the frontier.
DEFAULT_TOP = (1, 2, 3, 4, 6, 8)


def check_pairs_from_photos(folder: Optional[PathLike] = None, scale: int = 4,
                            limit: int = 18) -> List[Dict[str, Any]]:
    """``[{lr, hr}]`` (RGB uint8) from the HR photos of ``folder`` (default the embedded sample's), at most
    ``limit``: HR mod-cropped to ``scale``, LR by MATLAB bicubic / ``scale``. UserError naming ``--check_dir`` when it
    holds no image of at least 32 LR pixels a side."""
    if folder is not None:
        paths = list_images(folder) if Path(folder).is_dir() else []
        photos = [read_image(path) for path in paths[:limit]]
    else:
        photos = [hr for _, hr in sample_photos()][:limit]
    pairs = []
    for hr in photos:
        hr = modcrop(hr, scale)
        if min(hr.shape[:2]) // scale >= 32:
            pairs.append({"lr": imresize_matlab(hr, 1.0 / scale), "hr": hr})
    if not pairs:
        raise UserError(f"--check_dir {folder}: expected a folder of HR photos of at least {32 * scale} pixels a side")
    return pairs


def _pairs_digest(pairs: Sequence[Dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for pair in pairs:
        digest.update(pair["hr"].tobytes())
    return digest.hexdigest()


def _drop(quantized: nn.Module, model: nn.Module, pairs: Sequence[Dict[str, Any]], data_range: float) -> float:
    return psnr_drop(quantized.eval(), model, pairs, torch.device("cpu"), data_range)["drop_db"]


def rank_convolutions(model: nn.Module, out_dir: PathLike, calibration: Optional[PathLike] = None,
                      check_pairs: Optional[Sequence[Dict[str, Any]]] = None, *, data_range: float,
                      top: Sequence[int] = DEFAULT_TOP, source: str = "", progress: bool = True) -> Dict[str, Any]:
    """Rank ``model``'s inner convolutions (all but the first and the last, which QAT keeps in fp32 anyway) by the
    PSNR drop (dB) their staying in fp32 takes back, then measure the drop with the top ``k`` kept in fp32 for each
    ``k`` of ``top``. ``check_pairs``: default :func:`check_pairs_from_photos` of ``calibration``.

    Returns (and writes to ``out_dir``/:data:`SENSITIVITY_FILE`) ``{source, source_digest, ..., base_drop_db,
    convolutions: [{conv, drop_db, gain_db}] in graph order, ranking: [conv, ...], frontier: [{k, keep_fp32,
    drop_db}]}``; gain = base drop - drop with that convolution in fp32.
    """
    out = check_output_dir(out_dir, "--out")
    model = model.cpu().float().eval()
    inputs = [torch.from_numpy(array) for array in calibration_inputs(calibration, data_range=data_range)]
    pairs = list(check_pairs) if check_pairs is not None else check_pairs_from_photos(calibration)
    convolutions = convolution_names(model, inputs[0])
    identity = {"source_digest": weights_digest(model), "quantization": QAT_SETTINGS,
                "calibration": str(calibration or "embedded sample photos"), "check_digest": _pairs_digest(pairs),
                "check_images": len(pairs), "versions": {p: package_version(p) for p in ("torch", "nncf")}}
    path = out / SENSITIVITY_FILE
    result: Dict[str, Any] = {"source": source, **identity, "convolutions": [], "frontier": []}
    if path.is_file():
        try:
            previous = json.loads(path.read_text())
        except ValueError:
            previous = {}
        if all(previous.get(key) == value for key, value in identity.items()):
            result.update({k: previous[k] for k in ("base_drop_db", "convolutions", "frontier") if k in previous})
    out.mkdir(parents=True, exist_ok=True)

    def measure(keep: Sequence[str]) -> float:
        return _drop(quantize_for_qat(model, inputs, keep, convolutions), model, pairs, data_range)

    inner = convolutions[1:-1]
    ks = sorted({k for k in top if 1 <= k <= len(inner)})
    done = {row["conv"] for row in result["convolutions"]}
    todo = [name for name in inner if name not in done]
    bar = tqdm(total=1 + len(inner) + len(ks), initial=len(done) + ("base_drop_db" in result), desc="int8 sensitivity",
               unit="quantization", leave=False, disable=not progress)
    try:
        if "base_drop_db" not in result:
            result["base_drop_db"] = measure(())
            atomic_write_json(path, result)
            bar.update(1)
        for name in todo:
            drop = measure([name])
            result["convolutions"].append({"conv": name, "drop_db": drop, "gain_db": result["base_drop_db"] - drop})
            atomic_write_json(path, result)
            bar.update(1)
        order = {name: i for i, name in enumerate(convolutions)}
        result["convolutions"].sort(key=lambda row: order[row["conv"]])
        ranking = [row["conv"] for row in sorted(result["convolutions"], key=lambda row: -row["gain_db"])]
        result["ranking"] = ranking
        measured = {row["k"]: row for row in result["frontier"] if row.get("keep_fp32") == ranking[:row["k"]]}
        result["frontier"] = [measured[k] for k in sorted(measured)]
        for k in ks:
            if k not in measured:
                result["frontier"].append({"k": k, "keep_fp32": ranking[:k], "drop_db": measure(ranking[:k])})
                result["frontier"].sort(key=lambda row: row["k"])
                atomic_write_json(path, result)
            bar.update(1)
    finally:
        bar.close()
    atomic_write_json(path, result)
    return result
